// A periodic-billing position's invoices: what `issue_invoice` decides from the account's ledger
// (its usage per period, frozen tariffs and closed periods). Amounts are integer cents.
#include <fmt/format.h>

#include "domain/accounts.h"
#include "engine/log/event.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

// The reducer account_hooks.cpp registers: the ledger the invoice is decided from.
constexpr const char* kLedger = "account_ledger";

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const json& obj, const char* key, int64_t fallback = 0) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

DeciderOutcome Refuse(std::string why) {
  DeciderOutcome out;
  out.refusal = std::move(why);
  return out;
}

DeciderOutcome Invoice(const json& ledger, const json& p, TimePoint now) {
  if (Text(ledger, "regime") != "periodic") {
    return Refuse("a prepaid position is not invoiced: its usage is charged against the credit");
  }
  const std::string period = p.value("period", "");
  const std::string current = FormatTime(now).substr(0, 7);
  if (period >= current) {
    return Refuse(
        fmt::format("the period {} has not ended yet (it is {}); issue its invoice "
                    "once the month is over",
                    period, current));
  }
  if (period < Text(ledger, "opened_month")) {
    return Refuse(fmt::format("the account was opened in {}; there is nothing to invoice for {}",
                              Text(ledger, "opened_month"), period));
  }
  if (ledger.value("closed_periods", json::object()).contains(period)) {
    return Refuse(
        fmt::format("the invoice of {} was issued already; each month has one invoice", period));
  }
  json lines = json::array();
  int64_t total = 0;
  const json& used = ledger.value("usage", json::object()).value(period, json::object());
  for (const auto& t : ledger.value("tariffs", json::array())) {
    int64_t quantity = 0;
    if (Text(t, "per") == "use") {
      quantity = Int(used, Text(t, "id").c_str());
    } else if (Text(t, "period") == "month") {
      quantity = 1;
    }
    if (quantity == 0) continue;
    const int64_t unit = Int(t, "amount_cents");
    lines.push_back({{"tariff", Text(t, "id")},
                     {"quantity", quantity},
                     {"unit_amount_cents", unit},
                     {"amount_cents", unit * quantity}});
    total += unit * quantity;
  }
  DeciderOutcome out;
  out.events.emplace_back("account.invoice_issued",
                          json{{"period", period}, {"lines", lines}, {"total_cents", total}});
  return out;
}

const json& LedgerOf(const WorkflowState& state) {
  static const json kNone = json::object();
  auto it = state.derived.find(kLedger);
  return it == state.derived.end() ? kNone : *it;
}

}  // namespace

void RegisterInvoiceHooks(HookRegistry& hooks) {
  hooks.AddDecider("account_invoice", [](const DecideContext& c) {
    return Invoice(LedgerOf(c.state), c.command.payload, c.now);
  });
}

}  // namespace procedo::domain
