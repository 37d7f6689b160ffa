// Seed 003's accounts, for the citizen and for the Ente: each position's summary (balance or
// accounting situation) in one row, so that a balance is one point read however long the
// account; its movements in order; the holder's positions (self and each child); and the uses
// per service, site and day.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class AccountsProjection final : public Projection {
 public:
  static constexpr const char* kName = "accounts";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // "a" 0x00 <account stream>  ->  the position: service, site, regime, beneficiary, holder,
  // state, balance_cents (prepaid), usage and invoiced totals (periodic), alert, counts.
  static std::string SummaryKey(const std::string& account) { return Key({"a", account}); }
  // "b" 0x00 <account>  ->  {stream, tenant, holder, regime, state, balance_cents, version}: the
  // balance alone, small whatever the account's history, for the balance read.
  static std::string BalanceKey(const std::string& account) { return Key({"b", account}); }
  // "m" 0x00 <account> 0x00 <version>  ->  one movement (top-up, usage, invoice), in order.
  static std::string MovementsPrefix(const std::string& account) { return Key({"m", account, ""}); }
  // "h" 0x00 <tenant> 0x00 <holder> 0x00 <account>  ->  the holder's position, as the summary.
  static std::string HolderPrefix(const std::string& tenant, const std::string& holder) {
    return Key({"h", tenant, holder, ""});
  }
  static std::string HoldersPrefix(const std::string& tenant) { return Key({"h", tenant, ""}); }
  // "p" 0x00 <account>  ->  {stream, tenant, state, opened_at, closed_at, periods, invoices}: a
  // periodic position as the invoicing reactor needs it; `periods` are the kinds it is billed
  // by ("month": per use or per month, "school_year"), `invoices` the periods already invoiced.
  static std::string PeriodicKey(const std::string& account) { return Key({"p", account}); }
  static std::string PeriodicPrefix() { return Key({"p", ""}); }
  // "d" 0x00 <tenant> 0x00 <service> 0x00 <site> 0x00 <YYYY-MM-DD>  ->  {quantity, amount_cents,
  // movements}: the uses of the day at the site. A prefix without the day lists the days.
  static std::string DayPrefix(const std::string& tenant, const std::string& service,
                               const std::string& site) {
    return Key({"d", tenant, service, site, ""});
  }
};

}  // namespace procedo::projections
