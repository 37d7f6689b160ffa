// /healthz, /readyz, /metrics, /openapi.json, /schemas/events/: unauthenticated, for orchestrators
// and tooling.
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

  // The events' schemas, for whoever reads the events (a relay's ce_dataschema can point here:
  // kafka.dataschema_base): they mark which fields are personal and the form a sealed one takes.
  router.Add("GET", "/schemas/events", [&api](Request&) {
    nlohmann::json types = nlohmann::json::array();
    for (const auto& [type, text] : api.event_schemas) {
      types.push_back({{"type", type}, {"schema", "/schemas/events/" + type + ".json"}});
    }
    return Response::Json(200, {{"event_types", std::move(types)}});
  });
  router.Add("GET", "/schemas/events/{file}", [&api](Request& req) {
    constexpr std::string_view kSuffix = ".json";
    std::string_view file = req.params["file"];
    auto it = api.event_schemas.end();
    if (file.size() > kSuffix.size() && file.ends_with(kSuffix)) {
      it = api.event_schemas.find(file.substr(0, file.size() - kSuffix.size()));
    }
    if (it == api.event_schemas.end()) {
      return Response::Problem(
          404, "schema-not-found", "Schema not found",
          fmt::format("no event type has the schema '{}'; GET /schemas/events lists them "
                      "(<type>.json, e.g. case.started.json)",
                      file));
    }
    Response r;
    r.content_type = "application/schema+json";
    r.body = it->second;
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
