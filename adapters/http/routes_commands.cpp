// Commands: POST /v1/streams/{id}/commands/{command}; the stream's folded state, now or as of
// an instant: GET /v1/streams/{id}/state.
#include <fmt/format.h>

#include <charconv>

#include "adapters/event_json.h"
#include "adapters/http/api.h"
#include "engine/calendar.h"
#include "engine/command_handler.h"
#include "engine/decide.h"

namespace procedo::http {
namespace {

nlohmann::json Violations(const std::vector<SchemaViolation>& vs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : vs) out.push_back({{"path", v.path}, {"message", v.message}});
  return out;
}

Response FromRejection(const Rejection& r) {
  switch (r.kind) {
    case Rejection::Kind::kUnknownCommand:
      return Response::Problem(404, "unknown-command", "Unknown command", r.message);
    case Rejection::Kind::kNotAllowedInState:
      return Response::Problem(409, "not-allowed-in-state", "Not allowed in this state", r.message);
    case Rejection::Kind::kRoleNotAllowed:
      return Response::Problem(403, "role-not-allowed", "Your role may not do this", r.message);
    case Rejection::Kind::kTenantNotAllowed:
      return Response::Problem(403, "tenant-not-allowed", "Not your organisation's stream", r.message);
    case Rejection::Kind::kPayloadInvalid:
      return Response::Problem(422, "payload-invalid", "The command's payload is invalid", r.message,
                               {{"violations", Violations(r.violations)}});
    case Rejection::Kind::kGuardRefused:
      return Response::Problem(422, "guard-refused", "Refused by a rule of the procedure", r.message,
                               {{"guard", r.guard}});
  }
  return Response::Problem(422, "rejected", "Rejected", r.message);
}

bool ParseVersion(std::string s, uint64_t* v) {
  // If-Match carries an entity tag: "5" or W/"5"; accept the bare number too.
  if (s.rfind("W/", 0) == 0) s = s.substr(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

void AddCommandRoutes(Router& router, Api& api) {
  router.Add("POST", "/v1/streams/{id}/commands/{command}", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    if (!api.commands) {
      return Response::Problem(503, "unavailable", "Commands are not available", "no workflows are loaded");
    }
    const std::string& stream = req.params["id"];
    if (Status s = ValidateStreamId(stream); !s.ok()) return Response::FromStatus(s);
    Command cmd;
    cmd.stream = stream;
    cmd.name = req.params["command"];
    cmd.idempotency_key = req.Header("idempotency-key").value_or("");
    cmd.correlation_id = req.Header("x-correlation-id").value_or("");
    if (req.body.empty()) req.body = "{}";
    cmd.payload = nlohmann::json::parse(req.body, nullptr, false);
    if (cmd.payload.is_discarded() || !cmd.payload.is_object()) {
      return Response::Problem(400, "malformed-json", "Malformed JSON",
                               "the body must be a JSON object: the command's payload");
    }
    auto start = std::chrono::steady_clock::now();
    if (auto match = req.Header("if-match")) {
      uint64_t expected = 0;
      if (!ParseVersion(*match, &expected)) {
        return Response::Problem(400, "invalid-header", "Invalid If-Match",
                                 "If-Match must be the stream version you decided on, e.g. \"3\"");
      }
      cmd.expected_version = expected;
    }
    Actor actor{who.id, who.role, who.tenant};
    if (who.role == "admin") {
      // Administrators belong to no Comune: they act on a stream on behalf of its owner, and the
      // event still records the admin as its actor. New streams take the token's tenant.
      auto state = api.commands->Load(stream);
      if (state.ok() && (*state)->exists()) actor.tenant = (*state)->tenant;
    }
    auto outcome = api.commands->Handle(cmd, actor);
    if (!outcome.ok()) return Response::FromStatus(outcome.status());
    if (!outcome->accepted()) return FromRejection(*outcome->rejection);
    api.metrics.append_latency().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const AppendResult& a = outcome->append;
    nlohmann::json body = {{"stream", stream},
                           {"version", a.stream_version},
                           {"position", a.last_position},
                           {"first_position", a.first_position},
                           {"deduplicated", a.deduplicated},
                           {"events", nlohmann::json::array()}};
    for (const auto& e : a.events) body["events"].push_back(EventToJson(*e));
    Response r = Response::Json(a.deduplicated ? 200 : 201, body);
    r.headers.emplace_back("ETag", fmt::format("\"{}\"", a.stream_version));
    r.headers.emplace_back("Location", fmt::format("/v1/streams/{}/events", stream));
    return r;
  }, /*blocking=*/true);

  router.Add("GET", "/v1/streams/{id}/state", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    if (!api.commands || !api.workflows) {
      return Response::Problem(503, "unavailable", "States are not available", "no workflows are loaded");
    }
    const std::string& stream = req.params["id"];
    if (Status s = ValidateStreamId(stream); !s.ok()) return Response::FromStatus(s);
    if (!MayRead(api, who, stream)) {
      return Response::Problem(404, "stream-not-found", "Stream not found",
                               fmt::format("no stream {} that you may read", stream));
    }
    const WorkflowDefinition* def = api.workflows->ForStream(stream);
    if (!def) return Response::Problem(404, "no-workflow", "No workflow", "no workflow governs this stream");
    WorkflowState state;
    state.stream = stream;
    if (auto as_of = req.Query("as_of")) {
      // For auditors: the fold of the stream's events recorded up to that instant.
      auto t = ParseRfc3339(*as_of);
      if (!t.ok()) {
        return Response::Problem(400, "invalid-parameter", "Invalid as_of",
                                 "as_of must be an RFC 3339 instant, e.g. 2026-11-25T10:00:00+01:00");
      }
      for (uint64_t from = 1;;) {
        auto page = api.log.ReadStream(stream, from, Direction::kForward, 1000);
        if (!page.ok()) return Response::FromStatus(page.status());
        bool done = page->size() < 1000;
        for (const auto& e : *page) {
          if (e.time > *t) {
            done = true;
            break;
          }
          if (Status s = ApplyEvent(*def, state, e); !s.ok()) return Response::FromStatus(s);
        }
        if (done || page->empty()) break;
        from = page->back().version + 1;
      }
    } else {
      auto loaded = api.commands->Load(stream);
      if (!loaded.ok()) return Response::FromStatus(loaded.status());
      state = **loaded;
    }
    nlohmann::json body = {{"stream", stream}, {"workflow", def->id}, {"version", state.version},
                           {"state", state.status}, {"tenant", state.tenant}, {"fields", state.fields}};
    if (auto as_of = req.Query("as_of")) body["as_of"] = *as_of;
    Response r = Response::Json(200, body);
    r.headers.emplace_back("ETag", fmt::format("\"{}\"", state.version));
    return r;
  });
}

}  // namespace procedo::http
