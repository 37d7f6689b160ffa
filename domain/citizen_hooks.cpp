// The decisions of the citizen workflow (domain/workflows/citizen.json) and of the survey
// (domain/workflows/survey.json): pure functions of the stream's state, the command and the time.
#include <fmt/format.h>

#include "domain/citizen.h"
#include "domain/citizen_access.h"
#include "engine/calendar/calendar.h"
#include "engine/log/log_store.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

CitizenRecord RecordOf(const WorkflowState& state) {
  auto it = state.derived.find("citizen_record");
  return it == state.derived.end() ? CitizenRecord{} : CitizenRecord::FromJson(*it);
}

DeciderOutcome LogIn(const DecideContext& c) {
  DeciderOutcome out;
  const CitizenRecord r = RecordOf(c.state);
  const json& p = c.command.payload;
  const std::string code = p.value("case_code", "");
  if (c.now < r.locked_until) {
    out.refusal = fmt::format("the case code is locked until {}", FormatTime(r.locked_until));
    return out;
  }
  const std::string password = p.value("password", "");
  for (const auto& [case_stream, cred] : r.credentials) {
    if (!VerifyPassword(cred.hash, password)) continue;
    out.reply = {{"ok", true}, {"case_stream", case_stream}, {"issue", cred.issue}};
    if (r.failures > 0) {
      out.events.emplace_back("citizen.logged_in", json{{"case_code", code},
                                                        {"cleared_failures", r.failures},
                                                        {"logged_in_at", FormatTime(c.now)}});
    }
    return out;
  }
  // An unknown code has nothing to guess; recording its failures would only let anyone grow
  // the log with made-up codes.
  if (r.credentials.empty()) {
    out.reply = {{"ok", false}};
    return out;
  }
  const uint64_t failures = r.failures + 1;
  if (failures < p.value("max_failures", uint64_t{5})) {
    out.reply = {{"ok", false}};
    out.events.emplace_back("citizen.login_failed", json{{"case_code", code},
                                                         {"failures", failures},
                                                         {"failed_at", FormatTime(c.now)}});
    return out;
  }
  const uint64_t n = r.lockouts + 1;
  const auto d = LockoutDuration(std::chrono::seconds(p.value("lockout_seconds", int64_t{60})), n);
  out.reply = {{"ok", false}, {"locked", true}, {"seconds", d.count()}};
  out.events.emplace_back("citizen.locked_out", json{{"case_code", code},
                                                     {"lockout", n},
                                                     {"failures", failures},
                                                     {"locked_until", FormatTime(c.now + d)},
                                                     {"seconds", d.count()}});
  return out;
}

}  // namespace

void RegisterCitizenHooks(HookRegistry& hooks) {
  hooks.AddReducer("citizen_record",
                   [](json& derived, const std::string& type, const json& data) {
                     CitizenRecord r = CitizenRecord::FromJson(derived);
                     FoldCitizenEvent(r, type, data);
                     derived = r.ToJson();
                   });
  // Issues come in order: a resend decided on a stale record would hand out a password whose
  // hash another issue replaces.
  hooks.AddGuard("next_credentials_issue",
                 [](const DecideContext& c) -> std::optional<std::string> {
                   const CitizenRecord r = RecordOf(c.state);
                   const std::string stream = c.command.payload.value("case_stream", "");
                   auto it = r.credentials.find(stream);
                   const uint64_t next = it == r.credentials.end() ? 1 : it->second.issue + 1;
                   const uint64_t issue = c.command.payload.value("issue", uint64_t{0});
                   if (issue == next) return std::nullopt;
                   return fmt::format("{} holds issue {} of {}'s credentials; issue {} is next",
                                      c.command.stream, next - 1, stream, next);
                 });
  hooks.AddDecider("citizen_log_in", LogIn);
  hooks.AddDecider("citizen_opt_out", [](const DecideContext& c) {
    DeciderOutcome out;
    const std::string stream = c.command.payload.value("case_stream", "");
    if (!RecordOf(c.state).opted_out.count(stream)) {
      out.events.emplace_back("citizen.opted_out", c.command.payload);
    }
    return out;
  });
  // One answer per case: the marker stream (a keyed hash of the case, so it names no case) is
  // created in the same batch as the answer, and exists once the case has answered.
  hooks.AddAllocator("survey_answered_once",
                     [](const StreamVersionOf& version_of, const DecideContext& c,
                        const std::string&, json&,
                        std::vector<AllocatedEvent>* also) -> Status {
                       const std::string marker = c.command.payload.value("marker", "");
                       auto version = version_of(marker);
                       if (!version.ok()) return version.status();
                       if (*version > 0) {
                         return Status::Conflict(
                             "the satisfaction survey of this case was answered already",
                             *version, Status::SubCode::kStreamExists, marker);
                       }
                       also->push_back({marker, 0, "survey.answer_marked", json::object()});
                       return Status::Ok();
                     });
}

}  // namespace procedo::domain
