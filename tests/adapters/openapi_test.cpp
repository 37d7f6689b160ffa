// schemas/openapi.json matches what the server does: every registered route is documented with
// its method, every documented operation reaches a route, and every path parameter is declared.
// The commands route is documented once per command (its body is the command's payload).
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

  // Parameters are declared in place or in components/parameters.
  auto resolve = [&spec](const nlohmann::json& p) {
    const std::string prefix = "#/components/parameters/";
    if (!p.contains("$ref")) return p;
    return spec["components"]["parameters"][p["$ref"].get<std::string>().substr(prefix.size())];
  };
  std::set<std::pair<std::string, std::string>> routes, reached;
  for (auto& [method, pattern] : router.Routes()) routes.emplace(method, pattern);
  for (auto& [path, ops] : spec["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      INFO(method << " " << path);
      CHECK(op.contains("responses"));
      // Each {param} of the path is declared as a path parameter; the route it reaches, with
      // each parameter given a value, is the one registered for it.
      std::string target = path;
      for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1)) {
        std::string name = path.substr(i + 1, path.find('}', i) - i - 1);
        bool declared = false;
        for (auto& p : op.value("parameters", nlohmann::json::array())) {
          auto param = resolve(p);
          declared |= param.value("in", "") == "path" && param.value("name", "") == name;
        }
        CHECK(declared);
        target.replace(target.find("{" + name + "}"), name.size() + 2, "x-1");
      }
      http::Request req;
      req.method = method;
      for (auto& c : req.method) c = static_cast<char>(std::toupper(c));
      req.path = target;
      auto match = router.Find(req);
      INFO("documented but not served");
      REQUIRE(match.handler != nullptr);
      reached.emplace(req.method, req.route);
    }
  }
  for (auto& r : routes) {
    INFO("route not documented: " << r.first << " " << r.second);
    CHECK(reached.count(r) == 1);
  }
}