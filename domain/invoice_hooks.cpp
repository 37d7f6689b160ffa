// A periodic-billing position's invoices: what `issue_invoice` decides from the account's ledger
// (its usage per month, frozen tariffs and closed periods): a month once it is over, a school
// year from its first day, both judged in the Ente's local time. Amounts are integer cents.
#include <fmt/format.h>

#include "domain/accounts.h"
#include "domain/billing_periods.h"
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

// The tariffs an invoice of `period` bills: a month's uses and monthly tariffs, or a school
// year's tariffs, each at the amount frozen at admission (the ISEE reduction included).
json Lines(const json& ledger, const BillingPeriod& period) {
  json lines = json::array();
  const json& used = ledger.value("usage", json::object()).value(period.id, json::object());
  for (const auto& t : ledger.value("tariffs", json::array())) {
    int64_t quantity = 0;
    if (period.kind == PeriodKind::kSchoolYear) {
      quantity = Text(t, "period") == "school_year" ? 1 : 0;
    } else if (Text(t, "per") == "use") {
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
  }
  return lines;
}

// The first period of `kind` the account is billed for (`key` "opened_at"), or the period it was
// closed in ("closed_at"), if the ledger says.
std::optional<BillingPeriod> PeriodOfEvent(const json& ledger, const char* key, PeriodKind kind,
                                           const BillingRule& rule) {
  if (auto day = LocalDayOf(Text(ledger, key), rule)) {
    return std::string(key) == "opened_at" ? FirstPeriodBilled(*day, kind, rule)
                                           : PeriodOf(*day, kind, rule);
  }
  // A ledger folded before opened_at was kept: its UTC month.
  if (std::string(key) == "opened_at" && kind == PeriodKind::kMonth) {
    return ParsePeriod(Text(ledger, "opened_month"), rule);
  }
  return std::nullopt;
}

DeciderOutcome Invoice(const json& ledger, const json& p, TimePoint now, const BillingRule& rule) {
  if (Text(ledger, "regime") != "periodic") {
    return Refuse("a prepaid position is not invoiced: its usage is charged against the credit");
  }
  const std::string id = p.value("period", "");
  const std::optional<BillingPeriod> period = ParsePeriod(id, rule);
  if (!period) {
    return Refuse(
        fmt::format("'{}' is not a billing period: give a month as YYYY-MM or a school "
                    "year as YYYY/YY (2026/27)",
                    id));
  }
  const bool school_year = period->kind == PeriodKind::kSchoolYear;
  const std::string today = FormatDate(*LocalDayAt(now, rule));
  const auto opened = PeriodOfEvent(ledger, "opened_at", period->kind, rule);
  // Fees per school year are due from its first day (an enrolment fee, a yearly pass), or from
  // the admission for the first year billed; a month is billed in arrears, once it is over in
  // the Ente's time.
  if (school_year && !CameDue(*period, opened, now)) {
    return Refuse(
        fmt::format("the school year {} has not started yet (it is {}); its fees are due "
                    "from its first day",
                    id, today));
  }
  if (!school_year && !CameDue(*period, opened, now)) {
    return Refuse(
        fmt::format("the period {} has not ended yet (it is {} in the Ente's time); "
                    "issue its invoice once the month is over",
                    id, today));
  }
  if (opened && period->begins < opened->begins) {
    return Refuse(fmt::format("the account was opened in {}; there is nothing to invoice for {}",
                              opened->id, id));
  }
  const auto closed = PeriodOfEvent(ledger, "closed_at", period->kind, rule);
  if (closed && period->begins > closed->begins) {
    return Refuse(fmt::format("the account was closed in {}; there is nothing to invoice for {}",
                              closed->id, id));
  }
  if (ledger.value("closed_periods", json::object()).contains(id)) {
    return Refuse(
        fmt::format("the invoice of {} was issued already; each period has one invoice", id));
  }
  json lines = Lines(ledger, *period);
  if (school_year && lines.empty()) {
    return Refuse(
        fmt::format("service '{}' has no tariff per school year; there is nothing to "
                    "invoice for {}",
                    Text(ledger, "service"), id));
  }
  int64_t total = 0;
  for (const auto& l : lines) total += Int(l, "amount_cents");
  DeciderOutcome out;
  out.events.emplace_back("account.invoice_issued",
                          json{{"period", id}, {"lines", lines}, {"total_cents", total}});
  return out;
}

const json& LedgerOf(const WorkflowState& state) {
  static const json kNone = json::object();
  auto it = state.derived.find(kLedger);
  return it == state.derived.end() ? kNone : *it;
}

}  // namespace

void RegisterInvoiceHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services,
                          std::shared_ptr<const CalendarCatalog> calendars) {
  hooks.AddDecider("account_invoice", [services, calendars](const DecideContext& c) {
    return Invoice(LedgerOf(c.state), c.command.payload, c.now,
                   BillingRuleOf(calendars.get(), services.get(), c.state.tenant));
  });
}

}  // namespace procedo::domain
