// The citizen's side of seed 002 over the log: login with case code and password (Argon2id),
// lockout after repeated failures, signed session tokens, the office's resend of credentials,
// opt-out and the anonymous satisfaction survey. Design notes: projections/NOTIFY.md.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/json_schema.h"
#include "engine/log_store.h"
#include "projections/citizen.h"

namespace procedo::projections {

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

class CitizenAccess {
 public:
  CitizenAccess(LogStore& log, const EventSchemas& schemas, CitizenAccessOptions options)
      : log_(log), schemas_(schemas), options_(std::move(options)) {}

  Result<LoginOutcome> Login(const std::string& case_code, const std::string& password);
  // PermissionDenied for a forged, expired or superseded token (credentials were resent).
  Result<CitizenSession> Verify(const std::string& token);
  // The office's "Invio EMAIL/SMS" (seed 002 §7): a new password; every earlier one stops working.
  // Returns the new issue number. FailedPrecondition-like InvalidArgument when the citizen never
  // joined the service.
  Result<uint64_t> Resend(const std::string& case_stream, const std::string& actor_id);
  Status OptOut(const CitizenSession& session);
  // Conflict when this case's survey was answered already.
  Status AnswerSurvey(const CitizenSession& session, int rating, const std::string& comment);
  // The citizen's view of the case, from its events.
  Result<nlohmann::json> CaseView(const CitizenSession& session);

 private:
  Result<CitizenRecord> ReadRecord(const std::string& stream) const;
  // One reading of the record and one append; Conflict when the stream moved meanwhile.
  Result<LoginOutcome> TryLogin(const std::string& case_code, const std::string& stream,
                                const std::string& password);
  Result<std::vector<Event>> ReadCase(const std::string& case_stream) const;
  Status AppendChecked(const std::string& stream, ExpectedVersion expected,
                       const std::string& type, const nlohmann::json& data,
                       const std::string& tenant, const std::string& actor);
  std::string SignSession(const CitizenSession& s) const;

  LogStore& log_;
  const EventSchemas& schemas_;
  CitizenAccessOptions options_;
  // Logins of one case code run one at a time, so each guess is judged against the count the
  // previous one recorded; striped, so that unrelated codes rarely wait for each other.
  std::array<std::mutex, 64> login_locks_;
};

// The citizen's page from a case stream's events: office, responsible person and contacts, case
// code, procedure data, term and suspensions, state, notes and reasons, timeline (Italian labels).
nlohmann::json BuildCitizenCaseView(const std::vector<Event>& events);

}  // namespace procedo::projections
