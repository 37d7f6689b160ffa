#include "domain/citizen_access.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "engine/base/utf8.h"
#include "engine/calendar/calendar.h"

namespace procedo::domain {
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


}  // namespace

Actor CitizenServiceActor(const std::string& tenant) {
  return Actor::System("citizen-access", tenant);
}

Result<Command> IssueCredentialsCommand(const std::string& secret, PasswordHashCost cost,
                                        const std::string& case_stream,
                                        const std::string& case_code, const std::string& tenant,
                                        uint64_t issue, const std::string& issued_by,
                                        TimePoint now) {
  auto hash = HashPassword(DerivePassword(secret, case_stream, issue), cost);
  if (!hash.ok()) return hash.status();
  Command c;
  c.stream = CitizenStreamFor(tenant, case_code);
  c.name = "issue_credentials";
  c.payload = {{"case_stream", case_stream}, {"case_code", case_code},
               {"tenant", tenant},           {"issue", issue},
               {"reason", issue == 1 ? "start" : "resend"},
               {"password_hash", *hash},     {"issued_at", FormatTime(now)}};
  if (!issued_by.empty()) c.payload["issued_by"] = issued_by;
  return c;
}

Result<CitizenRecord> CitizenAccess::ReadRecord(const std::string& stream) {
  auto state = commands_.Load(stream);
  if (!state.ok()) return state.status();
  auto it = (*state)->derived.find("citizen_record");
  return it == (*state)->derived.end() ? CitizenRecord{} : CitizenRecord::FromJson(*it);
}

Result<std::vector<Event>> CitizenAccess::ReadCase(const std::string& case_stream) const {
  auto events = commands_.log().ReadStream(case_stream, 1, Direction::kForward, 100000);
  if (!events.ok()) return events.status();
  if (events->empty() || events->front().type != "case.started") {
    return Status::NotFound(fmt::format("no case {}", case_stream));
  }
  return events;
}

Result<std::vector<Event>> CitizenAccess::CaseEvents(const CitizenSession& session) const {
  return ReadCase(session.case_stream);
}

std::string CitizenAccess::SignSession(const CitizenSession& s) const {
  std::string payload = B64Url(json{{"sub", s.case_stream},
                                    {"code", s.case_code},
                                    {"tenant", s.tenant},
                                    {"issue", s.issue},
                                    {"role", "citizen"},
                                    {"exp", Seconds(s.expires)}}
                                   .dump());
  return payload + "." + B64Url(HmacSha256(options_.secret, "citizen-session|" + payload));
}

Result<LoginOutcome> CitizenAccess::Login(const std::string& tenant, const std::string& case_code,
                                          const std::string& password) {
  if (tenant.empty() || tenant.size() > 64 || case_code.empty() || case_code.size() > 64 ||
      password.size() > 256) {
    return Status::InvalidArgument(
        "give tenant (the Comune, 1-64 characters), case_code (1-64 characters) and password");
  }
  if (Status s = ValidateStreamId(CitizenStreamFor(tenant, "x")); !s.ok()) {
    return Status::InvalidArgument("the tenant is not a valid organisation id");
  }
  const std::string stream = CitizenStreamFor(tenant, case_code);
  // A case code whose escaped form makes the stream id too long can have no credentials (they
  // could not have been issued): a failed login like any other unknown code.
  if (!ValidateStreamId(stream).ok()) return LoginOutcome{};
  std::lock_guard<std::mutex> lock(
      login_locks_[std::hash<std::string>{}(stream) % login_locks_.size()]);
  Command cmd;
  cmd.stream = stream;
  cmd.name = "log_in";
  cmd.payload = {{"case_code", case_code},
                 {"password", password},
                 {"max_failures", options_.max_failures},
                 {"lockout_seconds", options_.lockout_base.count()}};
  for (int attempt = 0; attempt < 5; ++attempt) {
    LoginOutcome out;
    auto record = ReadRecord(stream);
    if (!record.ok()) return record.status();
    const TimePoint now = options_.clock->Now();
    if (now < record->locked_until) {
      out.locked = true;
      out.retry_after = std::chrono::ceil<std::chrono::seconds>(record->locked_until - now);
      return out;
    }
    // An unknown code: nothing to guess, and nothing recorded.
    if (record->credentials.empty()) return out;
    auto outcome = commands_.Handle(cmd, CitizenServiceActor(tenant));
    // A resend, an opt-out or the notifier wrote to the citizen stream meanwhile: judge the
    // password again against what is there now.
    if (!outcome.ok() && outcome.status().IsConflict()) continue;
    if (!outcome.ok()) return outcome.status();
    if (!outcome->accepted()) continue;  // locked meanwhile: read the record again
    const json& reply = outcome->reply;
    if (reply.value("ok", false)) {
      out.ok = true;
      out.session = {reply.value("case_stream", ""), case_code, tenant,
                     reply.value("issue", uint64_t{0}),
                     std::chrono::floor<std::chrono::seconds>(now + options_.session_ttl)};
      out.token = SignSession(out.session);
    } else if (reply.value("locked", false)) {
      out.locked = true;
      out.retry_after = std::chrono::seconds(reply.value("seconds", int64_t{0}));
    }
    return out;
  }
  return Status::Unavailable("the citizen's record kept changing during the login; try again");
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
  CitizenSession s{p.value("sub", ""), p.value("code", ""), p.value("tenant", ""),
                   p.value("issue", uint64_t{0}),
                   TimePoint(std::chrono::seconds(p.value("exp", int64_t{0})))};
  if (options_.clock->Now() >= s.expires) {
    return Status::PermissionDenied("the session expired; log in again");
  }
  auto record = ReadRecord(CitizenStreamFor(s.tenant, s.case_code));
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
  const std::string code = started.value("case_code", "");
  const std::string tenant = events->front().tenant;
  const json consent = started.value("consent", json::object());
  const json applicant = started.value("applicant", json::object());
  bool reachable = (consent.value("email", false) && applicant.contains("email")) ||
                   (consent.value("sms", false) && applicant.contains("mobile"));
  if (!reachable) {
    return Status::InvalidArgument(
        "the citizen did not join 'La tua pratica on line' (no consent with a contact); there "
        "are no credentials to resend");
  }
  const std::string stream = CitizenStreamFor(tenant, code);
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto record = ReadRecord(stream);
    if (!record.ok()) return record.status();
    if (record->opted_out.count(case_stream)) {
      return Status::InvalidArgument("the citizen opted out of the service for this case");
    }
    auto it = record->credentials.find(case_stream);
    // The first credentials come with the start message; until the notifier has sent them, the
    // guard would refuse every later issue number.
    if (it == record->credentials.end()) {
      return Status::InvalidArgument(
          "the first credentials of this case have not been issued yet (they come with the "
          "start message); there are none to resend");
    }
    const uint64_t issue = it->second.issue + 1;
    auto cmd = IssueCredentialsCommand(options_.secret, options_.hash_cost, case_stream, code,
                                       tenant, issue, actor_id, options_.clock->Now());
    if (!cmd.ok()) return cmd.status();
    auto outcome = commands_.Handle(*cmd, CitizenServiceActor(tenant));
    if (outcome.ok() && outcome->accepted()) return issue;
    // Another issue landed meanwhile (the guard refused this one, or the append conflicted).
    if (outcome.ok() || outcome.status().IsConflict()) continue;
    return outcome.status();
  }
  return Status::Unavailable("the citizen record kept changing; retry the resend");
}

Status CitizenAccess::OptOut(const CitizenSession& session) {
  Command cmd;
  cmd.stream = CitizenStreamFor(session.tenant, session.case_code);
  cmd.name = "opt_out";
  cmd.payload = {{"case_stream", session.case_stream},
                 {"case_code", session.case_code},
                 {"opted_out_at", FormatTime(options_.clock->Now())}};
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto outcome = commands_.Handle(cmd, CitizenServiceActor(session.tenant));
    if (!outcome.ok() && outcome.status().IsConflict()) continue;
    if (!outcome.ok()) return outcome.status();
    if (!outcome->accepted()) return Status::InvalidArgument(outcome->rejection->message);
    return Status::Ok();
  }
  return Status::Unavailable("the citizen record kept changing; retry");
}

Result<bool> CitizenAccess::OptedOut(const CitizenSession& session) {
  auto record = ReadRecord(CitizenStreamFor(session.tenant, session.case_code));
  if (!record.ok()) return record.status();
  return record->opted_out.count(session.case_stream) > 0;
}

std::string CitizenAccess::SurveyMarker(const std::string& case_stream) const {
  // The marker's stream name is a one-way function of the case: it proves "answered" without
  // naming the case.
  return "survey_marker-" + ToHex(HmacSha256(options_.secret, "survey|" + case_stream)).substr(0, 40);
}

Result<bool> CitizenAccess::SurveyAnswered(const CitizenSession& session) const {
  auto version = commands_.log().StreamVersion(SurveyMarker(session.case_stream));
  if (!version.ok()) return version.status();
  return *version > 0;
}

Status CitizenAccess::AnswerSurvey(const CitizenSession& session, int rating,
                                   const std::string& comment) {
  if (rating < 1 || rating > 5 || Utf8Length(comment) > kSurveyCommentMax) {
    return Status::InvalidArgument(
        fmt::format("rating is 1 to 5; comment at most {} characters", kSurveyCommentMax));
  }
  auto events = ReadCase(session.case_stream);
  if (!events.ok()) return events.status();
  const Event& start = events->front();
  std::string procedure = json::parse(start.data, nullptr, false).value("procedure_id", "");
  Command cmd;
  cmd.stream = "survey-" + start.tenant + "-" + procedure;
  cmd.name = "record_survey_answer";
  cmd.payload = {{"procedure_id", procedure},
                 {"rating", rating},
                 {"month", FormatTime(options_.clock->Now()).substr(0, 7)},
                 {"marker", SurveyMarker(session.case_stream)}};
  if (!comment.empty()) cmd.payload["comment"] = comment;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto outcome = commands_.Handle(cmd, Actor::System("survey", start.tenant));
    if (outcome.ok()) {
      if (outcome->accepted()) return Status::Ok();
      return Status::InvalidArgument(outcome->rejection->message);
    }
    const Status& s = outcome.status();
    // Another case's answer to the same procedure landed first: decide again.
    if (s.IsConflict() && s.conflict_stream() == cmd.stream) continue;
    return s;
  }
  return Status::Unavailable("the survey kept changing; retry the answer");
}

}  // namespace procedo::domain
