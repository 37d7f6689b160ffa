// POST /v1/imports and GET /v1/exports/enrolments: the exchange layout (schemas/exchange.xsd)
// over HTTP, for the Ente's operators: the same import as `procedo import`, as the signed-in
// operator, and the same export as `procedo export enrolments`.
#include <fmt/format.h>

#include "adapters/exchange/exchange.h"
#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "domain/access.h"
#include "domain/services.h"

namespace procedo::http {
namespace {

bool MayExchangeHere(Api& api, const Request& req, Principal* who, Response* out) {
  if (!RequirePrincipal(api, req, who, out)) return false;
  if (!domain::MayExchange(*who)) {
    *out = Response::Problem(403, "forbidden", "Not allowed",
                             "imports and exports are for the Ente's operators: sign in as one");
    return false;
  }
  if (api.exchange_schema == nullptr || api.commands == nullptr || api.services == nullptr) {
    *out = Response::Problem(503, "unavailable", "Exchange unavailable",
                             "this server does not run the command path");
    return false;
  }
  return true;
}

}  // namespace

void AddExchangeRoutes(Router& router, Api& api) {
  router.Add(
      "POST", "/v1/imports",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!MayExchangeHere(api, req, &who, &out)) return out;
        auto report =
            exchange::Import(req.body, *api.exchange_schema, *api.services, *api.commands,
                             exchange::ImportOptions{Actor{who.id, who.role, who.tenant}});
        if (!report.ok()) {
          if (report.status().IsInvalidArgument()) {
            return Response::Problem(400, "invalid-document", "The file was not imported",
                                     report.status().message());
          }
          return Response::FromStatus(report.status());
        }
        // Refused records are reported, not an error: the others were imported.
        return Response::Json(200, exchange::ReportJson(*report));
      },
      /*blocking=*/true);

  router.Add(
      "GET", "/v1/exports/enrolments",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!MayExchangeHere(api, req, &who, &out)) return out;
        const std::string service = req.Query("service").value_or("");
        if (!service.empty() && !domain::IsCatalogueId(service)) {
          return BadParameter("service", "a service id of GET /v1/services (or empty: all)");
        }
        auto xml = exchange::ExportEnrolments(api.log, who.tenant, service, api.personal);
        if (!xml.ok()) return Response::FromStatus(xml.status());
        Response r;
        r.content_type = "application/xml";
        r.body = std::move(*xml);
        return r;
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
