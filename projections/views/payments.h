// Debt positions at pagoPA and the money they brought (seed 003's online payments), for the
// Ente's reconciliation, the citizen's pages and the payment notice. Per tenant:
// - each position with its state, numbers, debtor, and its receipt once paid;
// - the positions of one reference (the account or enrolment they are for);
// - the day's ledger, in the Ente's local day of recording: positions created, cancelled or
//   expired, and every receipt with where its money went (a payment applied, an anomaly held for
//   an operator, a receipt for no position), so that each day balances to the cent;
// - the open anomalies and unmatched receipts, until an operator settles them.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class PaymentsProjection final : public Projection {
 public:
  static constexpr const char* kName = "payments";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // -> {stream, tenant, purpose, reference, description, amount_cents, due_date, notice_number,
  // iuv, iupd, debtor: {type, fiscal_code, name}, created_by, created_at, status (created,
  // published, paid, expired, cancelled), published_at, paid_at, receipt_id, paid_cents, method,
  // psp, publication_failure: {reason, permanent, at}, anomalies: [{receipt_id, kind,
  // paid_cents, at, settled}], version}
  static std::string PositionKey(const std::string& tenant, const std::string& stream) {
    return Key({"p", tenant, stream});
  }
  static std::string PositionsPrefix(const std::string& tenant) { return Key({"p", tenant, ""}); }
  // -> the position's stream
  static std::string ByReferencePrefix(const std::string& tenant, const std::string& reference) {
    return Key({"r", tenant, reference, ""});
  }
  // <position in log, 20 digits> -> {kind: created | cancelled | expired | paid | anomaly |
  // unmatched, stream, amount_cents (what the entry moves), receipt_id, anomaly, at}
  static std::string DayPrefix(const std::string& tenant, const std::string& date) {
    return Key({"d", tenant, date, ""});
  }
  // <stream> 0 <receipt id> -> {stream, receipt_id, kind, paid_cents, at}: what is open.
  static std::string OpenAnomaliesPrefix(const std::string& tenant) {
    return Key({"a", tenant, ""});
  }
};

}  // namespace procedo::projections
