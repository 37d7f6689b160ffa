// Commands: POST /v1/streams/{id}/commands/{command}; the stream's folded state, now or as of
// an instant: GET /v1/streams/{id}/state.
#include <fmt/format.h>

#include <charconv>

#include "adapters/command_service.h"
#include "adapters/http/api.h"
#include "engine/calendar/calendar.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/decide.h"

namespace procedo::http {
namespace {

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
    Command cmd;
    cmd.stream = req.params["id"];
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
    // Validation, authorization and the answer are shared with the Kafka command consumer.
    if (api.command_service == nullptr) {
      return Response::Problem(503, "unavailable", "Commands are not available",
                               "no workflows are loaded");
    }
    CommandReply reply = api.command_service->Execute(who, cmd);
    if (!reply.accepted()) return Response::FromProblem(*reply.problem);
    api.metrics.append_latency().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    Response r;
    r.status = reply.status;
    r.body = reply.Text();
    r.headers.emplace_back("ETag", fmt::format("\"{}\"", reply.stream_version));
    r.headers.emplace_back("Location", fmt::format("/v1/streams/{}/events", cmd.stream));
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
