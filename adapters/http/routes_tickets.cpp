// Tickets by the number people quote: POST /v1/tickets opens one under a name and a number the
// server gives (201, Location /v1/tickets/<number>); GET /v1/tickets/{number} finds it again.
#include <fmt/format.h>

#include "adapters/command_service.h"
#include "adapters/http/api.h"
#include "domain/numbers.h"
#include "engine/crypto/personal.h"
#include "engine/workflow/command_handler.h"

namespace procedo::http {

void AddTicketRoutes(Router& router, Api& api) {
  router.Add(
      "POST", "/v1/tickets",
      [&api](Request& req) {
        Principal who;
        Response denied;
        if (!RequirePrincipal(api, req, &who, &denied)) return denied;
        if (api.command_service == nullptr) {
          return Response::Problem(503, "unavailable", "Commands are not available",
                                   "no workflows are loaded");
        }
        Command cmd;
        cmd.name = "open_ticket";
        cmd.idempotency_key = req.Header("idempotency-key").value_or("");
        cmd.correlation_id = req.Header("x-correlation-id").value_or("");
        cmd.payload = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
        if (cmd.payload.is_discarded() || !cmd.payload.is_object()) {
          return Response::Problem(400, "malformed-json", "Malformed JSON",
                                   "the body must be a JSON object: the open_ticket payload");
        }
        CommandReply reply = api.command_service->Create(who, "ticket", std::move(cmd));
        if (!reply.accepted()) return Response::FromProblem(*reply.problem);
        Response r;
        r.status = reply.status;
        r.body = reply.Text();
        r.headers.emplace_back("ETag", fmt::format("\"{}\"", reply.stream_version));
        const std::string number = reply.body.value("number", "");
        r.headers.emplace_back(
            "Location", number.empty()
                            ? fmt::format("/v1/streams/{}/state", reply.body.value("stream", ""))
                            : fmt::format("/v1/tickets/{}", number));
        return r;
      },
      /*blocking=*/true);

  router.Add("GET", "/v1/tickets/{number}", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    if (!api.commands) {
      return Response::Problem(503, "unavailable", "Tickets are not available",
                               "no workflows are loaded");
    }
    const std::string& text = req.params["number"];
    auto number = domain::ParseNumber(text, domain::kTicketSeries);
    if (!number) {
      return Response::Problem(
          400, "invalid-parameter", "Invalid ticket number",
          "a ticket number reads TCK-<year>-<six digits>, e.g. TCK-2026-000123");
    }
    auto tenant = domain::TenantToRead(who, req.Query("tenant"), /*required=*/true);
    if (!tenant.ok()) return Response::FromStatus(tenant.status());
    auto not_found = [&text] {
      return Response::Problem(404, "ticket-not-found", "Ticket not found",
                               fmt::format("no ticket {} that you may read; check the number "
                                           "and the organisation",
                                           text));
    };
    auto stream = domain::StreamOfNumber(api.log, *tenant, *number);
    if (!stream.ok()) {
      return stream.status().IsNotFound() ? not_found() : Response::FromStatus(stream.status());
    }
    if (!MayRead(api, who, *stream)) return not_found();
    auto loaded = api.commands->Load(*stream);
    if (!loaded.ok()) return Response::FromStatus(loaded.status());
    const WorkflowState& state = **loaded;
    const WorkflowDefinition* def = api.workflows ? api.workflows->ForStream(*stream) : nullptr;
    nlohmann::json fields = state.fields;
    // Whoever may read the ticket reads it by its number as on its page, like the case view: the
    // contact opened (or shown erased); the raw state and events stay sealed.
    if (api.personal != nullptr) api.personal->ShowAll(fields);
    Response r = Response::Json(200, {{"number", text},
                                      {"stream", *stream},
                                      {"workflow", def ? def->id : ""},
                                      {"version", state.version},
                                      {"state", state.status},
                                      {"tenant", state.tenant},
                                      {"fields", std::move(fields)}});
    r.headers.emplace_back("ETag", fmt::format("\"{}\"", state.version));
    return r;
  });
}

}  // namespace procedo::http
