// Only for tests (testing.driven_clock): reads and moves the server's one clock, so that a test
// passes an SLA deadline, a retry or a lockout without sleeping. Not part of the API: not in
// AddAllRoutes nor in the OpenAPI document; `serve` registers it only when the clock is driven.
#include <fmt/format.h>

#include <cmath>
#include <mutex>

#include "adapters/http/api.h"
#include "engine/calendar/calendar.h"

namespace procedo::http {
namespace {

bool RequireAdmin(Api& api, const Request& req, Response* out) {
  Principal who;
  if (!RequirePrincipal(api, req, &who, out)) return false;
  if (!domain::IsAdmin(who)) {
    *out = Response::Problem(403, "role-not-allowed", "Your role may not do this",
                             "only an admin moves the test clock");
    return false;
  }
  return true;
}

}  // namespace

void AddTestingClockRoutes(Router& router, Api& api, std::function<void(TimePoint)> move_to) {
  router.Add("GET", "/v1/testing/clock", [&api](Request& req) {
    Response denied;
    if (!RequireAdmin(api, req, &denied)) return denied;
    return Response::Json(200, {{"now", FormatTime(api.clock.Now())}});
  });

  auto mu = std::make_shared<std::mutex>();
  router.Add("POST", "/v1/testing/clock", [&api, move_to, mu](Request& req) {
    Response denied;
    if (!RequireAdmin(api, req, &denied)) return denied;
    auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    const char* usage = "send {\"advance_seconds\": N} (N >= 0) or {\"to\": \"<RFC 3339 instant>\"}";
    if (!body.is_object() || body.contains("advance_seconds") == body.contains("to")) {
      return Response::Problem(400, "malformed-json", "Malformed clock move", usage);
    }
    std::lock_guard<std::mutex> lock(*mu);  // two moves at once must not lose one
    TimePoint now = api.clock.Now();
    TimePoint to = now;
    if (body.contains("advance_seconds")) {
      const auto& n = body["advance_seconds"];
      if (!n.is_number() || !std::isfinite(n.get<double>()) || n.get<double>() < 0 ||
          n.get<double>() > 100.0 * 365 * 86400) {
        return Response::Problem(400, "malformed-json", "Malformed clock move", usage);
      }
      to = now + Micros(static_cast<int64_t>(std::llround(n.get<double>() * 1e6)));
    } else {
      auto t = body["to"].is_string() ? ParseRfc3339(body["to"].get<std::string>())
                                      : Result<TimePoint>(Status::InvalidArgument("not a string"));
      if (!t.ok()) {
        return Response::Problem(400, "malformed-json", "Malformed clock move",
                                 fmt::format("'to' is not an RFC 3339 instant: {}; {}",
                                             t.status().message(), usage));
      }
      if (*t < now) {
        return Response::Problem(409, "clock-backwards", "The clock does not move back",
                                 fmt::format("it is {} already; events and deadlines were "
                                             "recorded at it",
                                             FormatTime(now)));
      }
      to = *t;
    }
    move_to(to);
    return Response::Json(200, {{"now", FormatTime(api.clock.Now())}});
  });
}

}  // namespace procedo::http
