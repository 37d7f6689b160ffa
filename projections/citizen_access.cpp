#include "projections/citizen_access.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "engine/calendar.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

std::string B64Url(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(t[(v >> k) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out.push_back(t[(v >> 18) & 63]);
    out.push_back(t[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    for (int k = 18; k >= 6; k -= 6) out.push_back(t[(v >> k) & 63]);
  }
  return out;
}

std::optional<std::string> FromB64Url(const std::string& in) {
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '-') d = 62;
    else if (c == '_') d = 63;
    else return std::nullopt;
    v = (v << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return out;
}

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

const char* kCitizenActor = R"({"system":"citizen-access"})";

}  // namespace

Result<CitizenRecord> CitizenAccess::ReadRecord(const std::string& stream) const {
  auto events = log_.ReadStream(stream, 1, Direction::kForward, 100000);
  if (!events.ok()) return events.status();
  CitizenRecord r;
  for (const auto& e : *events) {
    if (Status s = FoldCitizen(e, r); !s.ok()) return s;
  }
  return r;
}

Result<std::vector<Event>> CitizenAccess::ReadCase(const std::string& case_stream) const {
  auto events = log_.ReadStream(case_stream, 1, Direction::kForward, 100000);
  if (!events.ok()) return events.status();
  if (events->empty() || events->front().type != "case.started") {
    return Status::NotFound(fmt::format("no case {}", case_stream));
  }
  return events;
}

Status CitizenAccess::AppendChecked(const std::string& stream, ExpectedVersion expected,
                                    const std::string& type, const json& data,
                                    const std::string& tenant, const std::string& actor) {
  if (Status s = schemas_.Check(type, data); !s.ok()) return s;
  AppendRequest req{stream, expected, {NewEvent{type, data.dump(), tenant, actor, "", "", {}}}, ""};
  auto r = log_.Append(std::move(req));
  return r.ok() ? Status::Ok() : r.status();
}

std::string CitizenAccess::SignSession(const CitizenSession& s) const {
  std::string payload = B64Url(json{{"sub", s.case_stream},
                                    {"code", s.case_code},
                                    {"issue", s.issue},
                                    {"role", "citizen"},
                                    {"exp", Seconds(s.expires)}}
                                   .dump());
  return payload + "." + B64Url(HmacSha256(options_.secret, "citizen-session|" + payload));
}

Result<LoginOutcome> CitizenAccess::Login(const std::string& case_code,
                                          const std::string& password) {
  if (case_code.empty() || case_code.size() > 64 || password.size() > 256) {
    return Status::InvalidArgument("give case_code (1-64 characters) and password");
  }
  std::string stream = CitizenStreamFor(case_code);
  std::lock_guard<std::mutex> lock(
      login_locks_[std::hash<std::string>{}(case_code) % login_locks_.size()]);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto outcome = TryLogin(case_code, stream, password);
    // A resend, an opt-out or the notifier wrote to the citizen stream meanwhile: judge the
    // password again against what is there now.
    if (!outcome.ok() && outcome.status().IsConflict()) continue;
    return outcome;
  }
  return Status::Unavailable("the citizen's record kept changing during the login; try again");
}

Result<LoginOutcome> CitizenAccess::TryLogin(const std::string& case_code,
                                             const std::string& stream,
                                             const std::string& password) {
  LoginOutcome out;
  auto record = ReadRecord(stream);
  if (!record.ok()) return record.status();
  TimePoint now = options_.clock->Now();
  if (now < record->locked_until) {
    out.locked = true;
    out.retry_after = std::chrono::ceil<std::chrono::seconds>(record->locked_until - now);
    return out;
  }
  ExpectedVersion at = record->version == 0 ? ExpectedVersion::NoStream()
                                            : ExpectedVersion::Exact(record->version);
  for (const auto& [case_stream, c] : record->credentials) {
    if (!VerifyPassword(c.hash, password)) continue;
    if (record->failures > 0) {
      json data = {{"case_code", case_code},
                   {"cleared_failures", record->failures},
                   {"logged_in_at", FormatTime(now)}};
      Status s = AppendChecked(stream, at, "citizen.logged_in", data, c.tenant, kCitizenActor);
      if (!s.ok()) return s;
    }
    out.ok = true;
    out.session = {case_stream, case_code, c.issue,
                   std::chrono::floor<std::chrono::seconds>(now + options_.session_ttl)};
    out.token = SignSession(out.session);
    return out;
  }
  // An unknown code has nothing to guess; recording its failures would only let anyone grow
  // the log with streams of made-up codes.
  if (record->credentials.empty()) return out;
  const std::string& tenant = record->credentials.begin()->second.tenant;
  uint64_t failures = record->failures + 1;
  if (failures < static_cast<uint64_t>(options_.max_failures)) {
    json data = {{"case_code", case_code}, {"failures", failures}, {"failed_at", FormatTime(now)}};
    Status s = AppendChecked(stream, at, "citizen.login_failed", data, tenant, kCitizenActor);
    if (!s.ok()) return s;
    return out;
  }
  uint64_t n = record->lockouts + 1;
  auto d = LockoutDuration(options_.lockout_base, n);
  json data = {{"case_code", case_code},  {"lockout", n},
               {"failures", failures},    {"locked_until", FormatTime(now + d)},
               {"seconds", d.count()}};
  Status s = AppendChecked(stream, at, "citizen.locked_out", data, tenant, kCitizenActor);
  if (!s.ok()) return s;
  out.locked = true;
  out.retry_after = d;
  return out;
}

Result<CitizenSession> CitizenAccess::Verify(const std::string& token) {
  auto dot = token.find('.');
  if (dot == std::string::npos) return Status::PermissionDenied("not a citizen session token");
  std::string payload = token.substr(0, dot);
  auto sig = FromB64Url(token.substr(dot + 1));
  std::string want = HmacSha256(options_.secret, "citizen-session|" + payload);
  if (!sig || sig->size() != want.size() || CRYPTO_memcmp(sig->data(), want.data(), want.size()) != 0) {
    return Status::PermissionDenied("the session token's signature does not verify");
  }
  auto text = FromB64Url(payload);
  json p = json::parse(text.value_or(""), nullptr, false);
  if (!p.is_object() || p.value("role", "") != "citizen") {
    return Status::PermissionDenied("not a citizen session token");
  }
  CitizenSession s{p.value("sub", ""), p.value("code", ""), p.value("issue", uint64_t{0}),
                   TimePoint(std::chrono::seconds(p.value("exp", int64_t{0})))};
  if (options_.clock->Now() >= s.expires) {
    return Status::PermissionDenied("the session expired; log in again");
  }
  auto record = ReadRecord(CitizenStreamFor(s.case_code));
  if (!record.ok()) return record.status();
  auto it = record->credentials.find(s.case_stream);
  if (it == record->credentials.end() || it->second.issue != s.issue) {
    return Status::PermissionDenied("new credentials were issued since this login; log in again");
  }
  return s;
}

Result<uint64_t> CitizenAccess::Resend(const std::string& case_stream, const std::string& actor_id) {
  auto events = ReadCase(case_stream);
  if (!events.ok()) return events.status();
  json started = json::parse(events->front().data, nullptr, false);
  std::string code = started.value("case_code", "");
  const json consent = started.value("consent", json::object());
  const json applicant = started.value("applicant", json::object());
  bool reachable = (consent.value("email", false) && applicant.contains("email")) ||
                   (consent.value("sms", false) && applicant.contains("mobile"));
  if (!reachable) {
    return Status::InvalidArgument(
        "the citizen did not join 'La tua pratica on line' (no consent with a contact); there "
        "are no credentials to resend");
  }
  std::string stream = CitizenStreamFor(code);
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto record = ReadRecord(stream);
    if (!record.ok()) return record.status();
    if (record->opted_out.count(case_stream)) {
      return Status::InvalidArgument("the citizen opted out of the service for this case");
    }
    auto it = record->credentials.find(case_stream);
    uint64_t issue = (it == record->credentials.end() ? 1 : it->second.issue) + 1;
    auto hash = HashPassword(DerivePassword(options_.secret, case_stream, issue), options_.hash_cost);
    if (!hash.ok()) return hash.status();
    json data = {{"case_stream", case_stream}, {"case_code", code},
                 {"tenant", events->front().tenant}, {"issue", issue},
                 {"reason", "resend"}, {"password_hash", *hash},
                 {"issued_at", FormatTime(options_.clock->Now())}, {"issued_by", actor_id}};
    ExpectedVersion ev = record->version == 0 ? ExpectedVersion::NoStream()
                                              : ExpectedVersion::Exact(record->version);
    Status s = AppendChecked(stream, ev, "citizen.credentials_issued", data,
                             events->front().tenant, json{{"id", actor_id}}.dump());
    if (s.ok()) return issue;
    if (!s.IsConflict()) return s;
  }
  return Status::Unavailable("the citizen record kept changing; retry the resend");
}

Status CitizenAccess::OptOut(const CitizenSession& session) {
  std::string stream = CitizenStreamFor(session.case_code);
  auto record = ReadRecord(stream);
  if (!record.ok()) return record.status();
  if (record->opted_out.count(session.case_stream)) return Status::Ok();
  auto c = record->credentials.find(session.case_stream);
  json data = {{"case_stream", session.case_stream},
               {"case_code", session.case_code},
               {"opted_out_at", FormatTime(options_.clock->Now())}};
  return AppendChecked(stream, ExpectedVersion::Any(), "citizen.opted_out", data,
                       c == record->credentials.end() ? "" : c->second.tenant, kCitizenActor);
}

Status CitizenAccess::AnswerSurvey(const CitizenSession& session, int rating,
                                   const std::string& comment) {
  if (rating < 1 || rating > 5 || comment.size() > 2000) {
    return Status::InvalidArgument("rating is 1 to 5; comment at most 2000 characters");
  }
  auto events = ReadCase(session.case_stream);
  if (!events.ok()) return events.status();
  const Event& start = events->front();
  std::string procedure = json::parse(start.data, nullptr, false).value("procedure_id", "");
  // The marker's stream name is a one-way function of the case: it proves "answered" to this
  // check without naming the case, and NoStream makes a second answer fail atomically.
  std::string marker =
      "survey_marker-" + ToHex(HmacSha256(options_.secret, "survey|" + session.case_stream)).substr(0, 40);
  Status s = AppendChecked(marker, ExpectedVersion::NoStream(), "survey.answer_marked",
                           json::object(), start.tenant, kCitizenActor);
  if (s.IsConflict()) {
    return Status::Conflict("the satisfaction survey of this case was answered already",
                            std::nullopt);
  }
  if (!s.ok()) return s;
  std::string month = FormatTime(options_.clock->Now()).substr(0, 7);
  json answer = {{"procedure_id", procedure}, {"rating", rating}, {"month", month}};
  if (!comment.empty()) answer["comment"] = comment;
  return AppendChecked("survey-" + start.tenant + "-" + procedure, ExpectedVersion::Any(),
                       "survey.answered", answer, start.tenant, R"({"system":"survey"})");
}

Result<json> CitizenAccess::CaseView(const CitizenSession& session) {
  auto events = ReadCase(session.case_stream);
  if (!events.ok()) return events.status();
  json view = BuildCitizenCaseView(*events);
  auto record = ReadRecord(CitizenStreamFor(session.case_code));
  if (!record.ok()) return record.status();
  view["notifications"] = record->opted_out.count(session.case_stream) ? "opted_out" : "active";
  return view;
}

}  // namespace procedo::projections
