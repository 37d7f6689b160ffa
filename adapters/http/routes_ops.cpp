// /healthz, /readyz, /metrics, /openapi.json: unauthenticated, for orchestrators and tooling.
#include <fmt/format.h>

#include "adapters/http/api.h"
#include "engine/views/consumer.h"

namespace procedo::http {

void AddOpsRoutes(Router& router, Api& api) {
  router.Add("GET", "/healthz", [](Request&) { return Response::Json(200, {{"status", "ok"}}); });

  router.Add("GET", "/readyz", [&api](Request&) {
    nlohmann::json d = {{"log_position", api.log.LastPosition()},
                        {"consumers", nlohmann::json::object()}};
    bool ready = true;
    if (api.consumers != nullptr) {
      for (const auto& s : api.consumers->Statuses()) {
        const ConsumerProgress& p = s.progress;
        nlohmann::json c = {{"position", p.position},
                            {"lag", p.lag.value_or(0)},
                            {"lag_seconds", p.lag_seconds},
                            {"healthy", p.health.ok()},
                            {"essential", p.essential}};
        if (!p.health.ok()) c["error"] = p.health.message();
        for (const auto& [name, v] : p.counters) c["counters"][name] = v;
        if (!p.health.ok() && p.essential) ready = false;
        d["consumers"][s.name] = std::move(c);
      }
    }
    d["clock"] = api.clock_mode;
    d["status"] = ready ? "ready" : "failing";
    return Response::Json(ready ? 200 : 503, d);
  });

  router.Add("GET", "/metrics", [&api](Request&) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = api.metrics.Render();
    return r;
  });

  router.Add("GET", "/openapi.json", [&api](Request&) {
    Response r;
    r.body = api.openapi_json;
    return r;
  });
}

bool RequirePrincipal(Api& api, const Request& req, Principal* who, Response* out) {
  auto r = api.auth.Authenticate(req);
  if (auto* p = std::get_if<Principal>(&r)) {
    *who = *p;
    return true;
  }
  *out = std::get<Response>(std::move(r));
  return false;
}

}  // namespace procedo::http
