// Text lengths in characters: what a limit stated to people ("at most 2000 characters") counts.
#include <catch2/catch.hpp>

#include <string>

#include "engine/base/utf8.h"

using procedo::Utf8Length;

TEST_CASE("UTF-8 text is as long as its code points", "[utf8]") {
  CHECK(Utf8Length("") == 0);
  CHECK(Utf8Length("perche") == 6);
  CHECK(Utf8Length("perché") == 6);               // é: 2 bytes
  CHECK(Utf8Length("€ 1.234,50") == 10);          // €: 3 bytes
  CHECK(Utf8Length("ok \xF0\x9F\x91\x8D") == 4);  // an emoji: 4 bytes, one character
  CHECK(std::string("perché").size() == 7);
}

TEST_CASE("broken UTF-8 is never shorter than it looks", "[utf8]") {
  // Stray continuation bytes count one each: 4000 of them are 4000 characters, not none.
  CHECK(Utf8Length(std::string(4000, '\x80')) == 4000);
  // A lead byte whose sequence is cut short counts, and so does what follows it.
  CHECK(Utf8Length(std::string("\xC3") + "a") == 2);
  CHECK(Utf8Length(std::string("\xE2\x82") + "a") == 2);
  CHECK(Utf8Length("\xFF\xFE") == 2);
}
