// /healthz, /readyz, /metrics, /openapi.json: unauthenticated, for orchestrators and tooling.
#include <fmt/format.h>

#include "adapters/http/api.h"

namespace procedo::http {

void AddOpsRoutes(Router& router, Api& api) {
  router.Add("GET", "/healthz", [](Request&) { return Response::Json(200, {{"status", "ok"}}); });

  router.Add("GET", "/readyz", [&api](Request&) {
    nlohmann::json d = {{"log_position", api.log.LastPosition()}};
    bool ready = true;
    if (api.runner) {
      d["projections_position"] = api.runner->position();
      d["projection_lag"] = api.log.LastPosition() - std::min(api.log.LastPosition(), api.runner->position());
      if (Status s = api.runner->failure(); !s.ok()) {
        ready = false;
        d["projection_failure"] = s.message();
      }
    }
    if (api.ready_details) d.update(api.ready_details());
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
