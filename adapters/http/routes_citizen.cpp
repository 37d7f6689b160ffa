// Seed 002, "La tua pratica on line": the citizen's login, case page, opt-out and survey, and the
// office's resend of credentials. Citizen sessions are HMAC-signed tokens of CitizenAccess, not
// staff JWTs: a citizen token opens /v1/citizen/* and nothing else.
#include <fmt/format.h>

#include "adapters/http/api.h"
#include "projections/views/case_view.h"
#include "domain/citizen_access.h"
#include "projections/views/citizen_view.h"
#include "engine/views/view_store.h"

namespace procedo::http {
namespace {

constexpr const char* kCookie = "procedo_citizen";

std::string SessionToken(const Request& req) {
  if (auto auth = req.Header("authorization"); auth && auth->rfind("Bearer ", 0) == 0) {
    return auth->substr(7);
  }
  std::string cookies = req.Header("cookie").value_or("");
  std::string want = std::string(kCookie) + "=";
  for (size_t i = 0; i < cookies.size();) {
    size_t end = cookies.find(';', i);
    if (end == std::string::npos) end = cookies.size();
    std::string part = cookies.substr(i, end - i);
    auto b = part.find_first_not_of(' ');
    if (b != std::string::npos && part.compare(b, want.size(), want) == 0) {
      return part.substr(b + want.size());
    }
    i = end + 1;
  }
  return "";
}

Response Unavailable() {
  return Response::Problem(503, "unavailable", "The citizen service is not available",
                           "this server runs without the notifier's secret");
}

// The session, or the problem to answer with.
bool RequireCitizen(Api& api, const Request& req, domain::CitizenSession* s, Response* out) {
  if (!api.citizen) {
    *out = Unavailable();
    return false;
  }
  std::string token = SessionToken(req);
  if (token.empty()) {
    *out = Response::Problem(401, "unauthenticated", "Log in first",
                             "POST /v1/citizen/login with case_code and password");
    return false;
  }
  auto session = api.citizen->Verify(token);
  if (!session.ok()) {
    if (session.status().code() != Status::Code::kPermissionDenied) {
      *out = Response::FromStatus(session.status());
    } else {
      *out = Response::Problem(401, "unauthenticated", "Session not valid",
                               session.status().message());
    }
    return false;
  }
  *s = *session;
  return true;
}

// The expected term as a date (seed 002: "i tempi previsti"), by the case view's own
// computation (business or calendar days, moved by suspensions and closures). The live view has
// it when it has caught up with the case's last event (`version`): the same fold over the same
// events. Otherwise the case is folded from the log as of now, so the page never shows a date
// older than the message that brought the citizen here.
// True when the term's date came from the case view kept at this version (or the case has no
// term): then the answer depends on the case's events alone, not on the time of the request.
bool AddDeadline(Api& api, const std::string& case_stream, uint64_t version,
                 nlohmann::json& view) {
  if (api.workflows == nullptr || api.calendars == nullptr || !view.contains("term")) return true;
  std::optional<nlohmann::json> found;
  bool settled = true;
  if (api.views != nullptr) {
    auto row = api.views->Get(projections::CaseViewProjection::kName,
                              projections::CaseViewProjection::SummaryKey(case_stream));
    if (row.ok() && *row) {
      auto live = nlohmann::json::parse(**row, nullptr, false);
      if (live.is_object() && live.value("version", uint64_t{0}) == version) found = live;
    }
  }
  if (!found) {
    auto full = projections::CaseViewAsOf(api.log, *api.workflows, *api.calendars, case_stream,
                                          api.clock.Now());
    if (!full.ok() || !*full) return false;  // the page stays useful without it
    found = std::move(**full);
    settled = false;
  }
  const nlohmann::json& v = *found;
  nlohmann::json& term = view["term"];
  term["deadline"] = v.value("deadline_local", nlohmann::json());
  if (v.contains("deadline_before_suspension_local")) {
    // Suspended: the term is not running; the date it had when it stopped, in local time as
    // every other date of the page.
    term["deadline_before_suspension"] = v["deadline_before_suspension_local"];
  }
  if (v.contains("closed_within_term")) term["closed_within_term"] = v["closed_within_term"];
  return settled;
}

nlohmann::json ParseBody(const Request& req) {
  return nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
}

}  // namespace

std::string CitizenCookie(const std::string& token, std::chrono::seconds ttl, bool tls) {
  return fmt::format("{}={}; Path=/v1/citizen; Max-Age={}; HttpOnly; SameSite=Strict{}", kCookie,
                     token, std::max<int64_t>(0, ttl.count()), tls ? "; Secure" : "");
}

Result<nlohmann::json> CitizenCaseView(Api& api, const domain::CitizenSession& s,
                                       bool* settled) {
  auto events = api.citizen->CaseEvents(s);
  if (!events.ok()) return events.status();
  auto opted_out = api.citizen->OptedOut(s);
  if (!opted_out.ok()) return opted_out.status();
  nlohmann::json view = projections::BuildCitizenCaseView(*events);
  view["notifications"] = *opted_out ? "opted_out" : "active";
  const bool from_view =
      AddDeadline(api, s.case_stream, events->empty() ? 0 : events->back().version, view);
  if (settled != nullptr) *settled = from_view;
  return view;
}

void AddCitizenRoutes(Router& router, Api& api) {
  router.Add("POST", "/v1/citizen/login", [&api](Request& req) {
    if (!api.citizen) return Unavailable();
    auto body = ParseBody(req);
    auto text = [&body](const char* key) -> const std::string* {
      auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
    };
    if (!body.is_object() || !text("tenant") || !text("case_code") || !text("password")) {
      return Response::Problem(
          400, "malformed-json", "Malformed login",
          "send {\"tenant\": \"<the Comune, as in the message's link>\", \"case_code\": "
          "\"...\", \"password\": \"...\"}");
    }
    auto outcome = api.citizen->Login(*text("tenant"), *text("case_code"), *text("password"));
    if (!outcome.ok()) return Response::FromStatus(outcome.status());
    if (outcome->locked) {
      Response r = Response::Problem(
          429, "locked-out", "Too many wrong passwords",
          fmt::format("this case code is locked for {} s after repeated wrong passwords; the "
                      "office can resend the credentials",
                      outcome->retry_after.count()),
          {{"retry_after", outcome->retry_after.count()}});
      r.headers.emplace_back("Retry-After", std::to_string(outcome->retry_after.count()));
      return r;
    }
    if (!outcome->ok) {
      return Response::Problem(401, "login-failed", "Wrong case code or password",
                               "check the case code and the password of the latest message");
    }
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(outcome->session.expires -
                                                                api.clock.Now());
    Response r = Response::Json(200, {{"token", outcome->token},
                                      {"token_type", "Bearer"},
                                      {"expires_at", FormatTime(outcome->session.expires)},
                                      {"case_code", outcome->session.case_code}});
    r.headers.emplace_back("Set-Cookie", CitizenCookie(outcome->token, ttl, api.tls));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }, /*blocking=*/true);

  router.Add("GET", "/v1/citizen/case", [&api](Request& req) {
    domain::CitizenSession s;
    Response denied;
    if (!RequireCitizen(api, req, &s, &denied)) return denied;
    auto view = CitizenCaseView(api, s);
    if (!view.ok()) return Response::FromStatus(view.status());
    Response r = Response::Json(200, *view);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }, /*blocking=*/true);

  router.Add("POST", "/v1/citizen/opt-out", [&api](Request& req) {
    domain::CitizenSession s;
    Response denied;
    if (!RequireCitizen(api, req, &s, &denied)) return denied;
    if (Status st = api.citizen->OptOut(s); !st.ok()) return Response::FromStatus(st);
    return Response::Json(200, {{"notifications", "opted_out"},
                                {"detail", "no further messages; this page stays available"}});
  }, /*blocking=*/true);

  router.Add("POST", "/v1/citizen/survey", [&api](Request& req) {
    domain::CitizenSession s;
    Response denied;
    if (!RequireCitizen(api, req, &s, &denied)) return denied;
    auto body = ParseBody(req);
    if (!body.is_object() || !body.contains("rating") || !body["rating"].is_number_integer() ||
        (body.contains("comment") && !body["comment"].is_string())) {
      return Response::Problem(400, "malformed-json", "Malformed answer",
                               "send {\"rating\": 1..5, \"comment\": \"...\" (optional)}");
    }
    Status st = api.citizen->AnswerSurvey(s, body["rating"].get<int>(), body.value("comment", ""));
    if (st.IsConflict()) {
      return Response::Problem(409, "survey-answered", "Survey already answered",
                               st.message());
    }
    if (!st.ok()) return Response::FromStatus(st);
    return Response::Json(201, {{"answered", true}});
  }, /*blocking=*/true);

  router.Add("POST", "/v1/citizen/cases/{id}/credentials", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    if (!api.citizen) return Unavailable();
    const std::string& stream = req.params["id"];
    if (Status s = ValidateStreamId(stream); !s.ok()) return Response::FromStatus(s);
    if (!domain::RoleMayRead(who, {"operator", "operator_validator", "validator"})) {
      return Response::Problem(403, "role-not-allowed", "Your role may not do this",
                               "only the office (operators, validators, admins) resends "
                               "credentials");
    }
    if (!MayRead(api, who, stream) || StreamKind(stream) != "case") {
      return Response::Problem(404, "stream-not-found", "Case not found",
                               fmt::format("no case {} that you may act on", stream));
    }
    auto issue = api.citizen->Resend(stream, who.id);
    if (!issue.ok()) {
      if (issue.status().IsInvalidArgument()) {
        return Response::Problem(409, "not-joined", "No credentials to resend",
                                 issue.status().message());
      }
      return Response::FromStatus(issue.status());
    }
    return Response::Json(202, {{"stream", stream}, {"issue", *issue},
                                {"detail", "new credentials are on their way; the old password "
                                           "no longer works"}});
  }, /*blocking=*/true);
}

}  // namespace procedo::http
