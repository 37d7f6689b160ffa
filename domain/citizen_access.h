// The citizen's side of seed 002: login with case code and password (Argon2id), lockout after
// repeated failures, signed session tokens, the office's resend of credentials, opt-out and the
// anonymous satisfaction survey. Design notes: projections/NOTIFY.md.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/log/log_store.h"
#include "engine/workflow/command_handler.h"
#include "domain/access.h"
#include "domain/citizen.h"

namespace procedo::domain {

// The longest survey comment, in characters (code points), as the survey workflow's schema
// counts them (maxLength): accented letters count one each, whatever their bytes.
inline constexpr size_t kSurveyCommentMax = 2000;

struct CitizenAccessOptions {
  std::string secret;
  int max_failures = 5;  // wrong passwords in a row (counted in the log) before a lockout
  std::chrono::seconds lockout_base{60};       // the first lockout; each next one doubles
  std::chrono::seconds session_ttl{30 * 60};
  PasswordHashCost hash_cost = PasswordHashCost::Interactive();
  const Clock* clock = &SystemClock::Instance();
};

struct CitizenSession {
  std::string case_stream;
  std::string case_code;
  std::string tenant;
  uint64_t issue = 0;
  TimePoint expires{};
};

struct LoginOutcome {
  bool ok = false;
  bool locked = false;
  std::chrono::seconds retry_after{0};  // when locked
  std::string token;                    // when ok
  CitizenSession session;
};

// The command that issues credentials `issue` of a case (1 at the start, the next on a resend):
// the password derives from the secret, the stored hash is Argon2id.
Result<Command> IssueCredentialsCommand(const std::string& secret, PasswordHashCost cost,
                                        const std::string& case_stream,
                                        const std::string& case_code, const std::string& tenant,
                                        uint64_t issue, const std::string& issued_by,
                                        TimePoint now);
// The actor the product's citizen service runs the citizen workflow's commands as.
Actor CitizenServiceActor(const std::string& tenant);

// Registers the citizen and survey workflows' hooks: the "citizen_record" reducer, the
// "next_credentials_issue" guard, the "citizen_log_in" and "citizen_opt_out" deciders and the
// "survey_answered_once" allocator.
void RegisterCitizenHooks(HookRegistry& hooks);

// The citizen's side of seed 002 through the command handler: every record (a login, a lockout,
// a resend, an opt-out, a survey answer) is a command of the citizen or survey workflow.
class CitizenAccess {
 public:
  // `commands` must outlive this object.
  CitizenAccess(CommandHandler& commands, CitizenAccessOptions options)
      : commands_(commands), options_(std::move(options)) {}

  // `tenant` is the Comune whose case code it is (codes are unique per Comune only).
  Result<LoginOutcome> Login(const std::string& tenant, const std::string& case_code,
                             const std::string& password);
  // PermissionDenied for a forged, expired or superseded token (credentials were resent).
  Result<CitizenSession> Verify(const std::string& token);
  // The office's "Invio EMAIL/SMS" (seed 002 §7): a new password; every earlier one stops
  // working. Returns the new issue number; InvalidArgument when the citizen never joined the
  // service or opted out.
  Result<uint64_t> Resend(const std::string& case_stream, const std::string& actor_id);
  Status OptOut(const CitizenSession& session);
  // Conflict when this case's survey was answered already; InvalidArgument for a rating outside
  // 1..5 or a comment over kSurveyCommentMax characters.
  Status AnswerSurvey(const CitizenSession& session, int rating, const std::string& comment);
  // Whether this case's survey was answered (its page offers the survey only once).
  Result<bool> SurveyAnswered(const CitizenSession& session) const;
  // Whether the citizen stopped the service for the session's case.
  Result<bool> OptedOut(const CitizenSession& session);
  // Whether a ticket's link carries its key (TicketKeyValid with the server secret): its
  // requester's only credential.
  bool TicketKeyValid(const TicketLink& link) const {
    return domain::TicketKeyValid(options_.secret, link);
  }
  // The events of the session's case, for its page.
  Result<std::vector<Event>> CaseEvents(const CitizenSession& session) const;

 private:
  Result<CitizenRecord> ReadRecord(const std::string& stream);
  Result<std::vector<Event>> ReadCase(const std::string& case_stream) const;
  std::string SignSession(const CitizenSession& s) const;
  std::string SurveyMarker(const std::string& case_stream) const;

  CommandHandler& commands_;
  CitizenAccessOptions options_;
  // Logins of one case code run one at a time, so each guess is judged against the count the
  // previous one recorded; striped, so that unrelated codes rarely wait for each other.
  std::array<std::mutex, 64> login_locks_;
};

}  // namespace procedo::domain
