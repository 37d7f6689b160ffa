// The rendered-page cache (adapters/web/page_cache.h): the token filled in per browser, the
// bound on its size.
#include "adapters/web/page_cache.h"

#include <catch2/catch.hpp>

namespace procedo::web {

TEST_CASE("a kept page comes back with the browser's own token in every form", "[page_cache]") {
  PageCache cache;
  const std::string& ph = cache.TokenPlaceholder();
  REQUIRE(ph.size() > 20);
  CHECK_FALSE(cache.Find("case|a|3", "tok").has_value());
  cache.Put("case|a|3", "<form><input value=\"" + ph + "\"></form><form>" + ph + "</form>");
  auto one = cache.Find("case|a|3", "browser-one");
  auto two = cache.Find("case|a|3", "browser-two");
  REQUIRE(one.has_value());
  REQUIRE(two.has_value());
  CHECK(*one == "<form><input value=\"browser-one\"></form><form>browser-one</form>");
  CHECK(*two == "<form><input value=\"browser-two\"></form><form>browser-two</form>");
  // A token that contains the placeholder's start does not make the substitution loop.
  CHECK(cache.Find("case|a|3", ph.substr(0, 8))->find(ph) == std::string::npos);
  CHECK_FALSE(cache.Find("case|a|4", "tok").has_value());  // another version: not this page
}

TEST_CASE("two placeholders differ between processes' caches", "[page_cache]") {
  PageCache a, b;
  CHECK(a.TokenPlaceholder() != b.TokenPlaceholder());
}

TEST_CASE("the least recently opened pages go when the cache is full", "[page_cache]") {
  PageCache cache(4000);  // a page of at most a quarter of it is kept
  const std::string page(900, 'x');
  cache.Put("p1", page);
  cache.Put("p2", page);
  cache.Put("p3", page);
  CHECK(cache.Find("p1", "t").has_value());  // p1 is now the most recent
  cache.Put("p4", page);
  cache.Put("p5", page);  // over 4000 bytes: p2, the least recently opened, goes
  CHECK(cache.Find("p1", "t").has_value());
  CHECK_FALSE(cache.Find("p2", "t").has_value());
  CHECK(cache.Find("p5", "t").has_value());
  CHECK(cache.entries() == 4);
  cache.Put("big", std::string(1500, 'y'));  // over a quarter: not kept
  CHECK_FALSE(cache.Find("big", "t").has_value());
}

}  // namespace procedo::web
