// GET /v1/services: the tenant's on-demand services catalogue (seed 003), what the enrolment's
// two steps accept: each service with its sites spelled out, regime, tariffs and step-2
// questions, for the web form and for integrators.
#include "adapters/http/api.h"
#include "domain/access.h"
#include "domain/services.h"

namespace procedo::http {
namespace {

using nlohmann::json;

json ServicesJson(const domain::TenantServices& c) {
  std::map<std::string, json> sites;
  for (const auto& s : c.sites) sites[s["id"].get<std::string>()] = s;
  json services = json::array();
  for (const auto& s : c.services) {
    json out = s.source;
    out["sites"] = json::array();
    for (const auto& id : s.sites) out["sites"].push_back(sites.at(id));
    out["questions"] = s.source["questions"];
    services.push_back(std::move(out));
  }
  return services;
}

}  // namespace

void AddServiceRoutes(Router& router, Api& api) {
  router.Add("GET", "/v1/services", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    auto tenant = domain::TenantToRead(who, req.Query("tenant"), /*required=*/true);
    if (!tenant.ok()) return Response::FromStatus(tenant.status());
    const domain::TenantServices* c =
        api.services != nullptr ? api.services->ForTenant(*tenant) : nullptr;
    // A Comune that offers nothing online has an empty catalogue, not a missing one.
    return Response::Json(200, {{"tenant", *tenant},
                                {"version", c != nullptr ? c->version : 0},
                                {"services", c != nullptr ? ServicesJson(*c) : json::array()}});
  });
}

}  // namespace procedo::http
