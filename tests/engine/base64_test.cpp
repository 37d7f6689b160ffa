// The one Base64 encoder against RFC 4648's test vectors (section 10) and the URL-safe alphabet.
#include <catch2/catch.hpp>

#include "engine/base/base64.h"

using procedo::Base64Encode;
using procedo::Base64UrlEncode;

TEST_CASE("Base64 encodes RFC 4648's test vectors", "[base64]") {
  CHECK(Base64Encode("") == "");
  CHECK(Base64Encode("f") == "Zg==");
  CHECK(Base64Encode("fo") == "Zm8=");
  CHECK(Base64Encode("foo") == "Zm9v");
  CHECK(Base64Encode("foob") == "Zm9vYg==");
  CHECK(Base64Encode("fooba") == "Zm9vYmE=");
  CHECK(Base64Encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("Base64url uses - and _ and no padding", "[base64]") {
  const std::string bytes("\xfb\xff\xfe", 3);
  CHECK(Base64Encode(bytes) == "+//+");
  CHECK(Base64UrlEncode(bytes) == "-__-");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode("fo") == "Zm8");
  // Every byte value survives: high bytes are not sign-extended.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  CHECK(Base64Encode(all).size() == 344);
  CHECK(Base64Encode(all).substr(0, 8) == "AAECAwQF");
  CHECK(Base64Encode(all).substr(336) == "/P3+/w==");
}
