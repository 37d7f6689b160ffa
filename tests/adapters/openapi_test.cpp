// schemas/openapi.json matches what the server does: every registered route is documented with
// its method, every documented operation is registered, and every path parameter is declared.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "adapters/http/api.h"
#include "engine/log/log_store.h"
#include "support/temp_dir.h"

using namespace procedo;

TEST_CASE("every route is in the OpenAPI document and vice versa", "[openapi]") {
  testing::TempDir dir;
  LogOptions lo;
  lo.path = dir.sub("log");
  auto log = LogStore::Open(lo);
  REQUIRE(log.ok());
  auto auth = http::Authenticator::Create({});
  REQUIRE(auth.ok());
  http::Metrics metrics;
  http::Api api(**log, **auth, metrics, SystemClock::Instance());
  http::Router router;
  http::AddAllRoutes(router, api);

  std::ifstream in(std::string(PROCEDO_SOURCE_DIR) + "/schemas/openapi.json");
  REQUIRE(in);
  auto spec = nlohmann::json::parse(in);
  CHECK(spec["openapi"].get<std::string>().rfind("3.1", 0) == 0);

  std::set<std::pair<std::string, std::string>> routes, documented;
  for (auto& [method, pattern] : router.Routes()) {
    std::string m = method;
    for (auto& c : m) c = static_cast<char>(std::tolower(c));
    routes.emplace(m, pattern);
  }
  for (auto& [path, ops] : spec["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      documented.emplace(method, path);
      INFO(method << " " << path);
      CHECK(op.contains("responses"));
      // Each {param} of the path is declared as a path parameter.
      for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
        std::string name = path.substr(i + 1, path.find('}', i) - i - 1);
        bool declared = false;
        for (auto& p : op.value("parameters", nlohmann::json::array())) {
          declared |= p.value("in", "") == "path" && p.value("name", "") == name;
        }
        CHECK(declared);
      }
    }
  }
  for (auto& r : routes) {
    INFO("route not documented: " << r.first << " " << r.second);
    CHECK(documented.count(r) == 1);
  }
  for (auto& d : documented) {
    INFO("documented but not served: " << d.first << " " << d.second);
    CHECK(routes.count(d) == 1);
  }
}
