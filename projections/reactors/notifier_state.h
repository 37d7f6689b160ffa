// The notifier's durable state: a fold of the log kept in a ViewStore column family together with
// its checkpoint (one WriteBatch), so that a restart resumes where the last run left off instead
// of reading the whole log. Like any view it can be dropped: the notifier then folds from 1.
//
// Rows of column family "notifier":
//   f/<stream>      the facts of a case or ticket (JSON), what later messages render with
//   c/<stream>      empty: credentials owed (case started with consent, none issued yet)
//   p/<message id>  a planned message without notification.sent or a final notification.failed:
//                   the rendered message, attempts and retry_at from the last recorded failure
//
// A planned start or resend message holds the citizen's password, a ticket's message the key of
// the ticket's page. The row never does: each is cut out of the text and derived again from the
// secret when the row is read, so this store, like the log, reveals nothing without the secret
// (projections/NOTIFY.md).
#pragma once

#include <string>

#include "engine/base/clock.h"
#include "engine/base/status.h"
#include "projections/reactors/notify_plan.h"

namespace procedo::projections {

inline constexpr const char* kNotifierView = "notifier";

std::string FactsKey(const std::string& stream);
std::string OwedCredentialsKey(const std::string& stream);
std::string PendingKey(const std::string& message_id);
inline constexpr const char* kOwedCredentialsPrefix = "c/";
// "o/<tenant>/<stream>": a ticket still open, whose requester hears of the help desk's closures.
inline constexpr const char* kOpenTicketPrefix = "o/";
inline constexpr const char* kPendingPrefix = "p/";

// The facts row plus the highest credentials issue seen for the case.
struct StoredFacts {
  CaseFacts facts;
  uint64_t issued = 0;
  nlohmann::json sla = nlohmann::json::object();  // a ticket's clocks (ClocksToFacts)
};
std::string EncodeFacts(const StoredFacts& f);
Result<StoredFacts> DecodeFacts(const std::string& row);

struct PendingRow {
  OutgoingMessage message;
  std::string tenant;    // of the source stream: the tenant of its notification.* records
  int attempts = 0;      // failures recorded so far
  TimePoint retry_at{};  // epoch: due at once
};
// `secret` derives the password and the ticket key that EncodePending cuts out and DecodePending
// puts back.
std::string EncodePending(const PendingRow& p, const std::string& secret);
Result<PendingRow> DecodePending(const std::string& row, const std::string& secret);

}  // namespace procedo::projections
