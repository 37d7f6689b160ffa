// A beneficiary's position in one service: what the ledger keeps (balance, movements by id,
// usage per month, closed months, the low-credit alert) and what top-ups, usage, the alert's
// settings and invoices decide from it. Amounts are integer cents throughout.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "domain/accounts.h"
#include "domain/billing_periods.h"
#include "engine/log/event.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

constexpr const char* kLedger = "account_ledger";

// Read in place: a usage is decided and folded for every meal of an import.
const std::string& Text(const json& obj, const char* key) {
  static const std::string kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  auto it = obj.find(key);
  return it != obj.end() ? *it : kNull;
}

int64_t Int(const json& obj, const char* key, int64_t fallback = 0) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// What identifies a movement's content: a movement sent again with the same id must say the
// same, whatever else (who, when) differs.
json TopUpContent(const json& d) {
  json c = {{"kind", "top_up"}, {"amount_cents", Int(d, "amount_cents")}};
  if (d.contains("date")) c["date"] = d["date"];
  return c;
}
// Built member by member: an initializer list would copy each member once more, for every usage
// decided and folded.
json UsageContent(const json& d) {
  json c(json::value_t::object);
  auto& o = c.get_ref<json::object_t&>();
  o.emplace("kind", "usage");
  o.emplace("date", Text(d, "date"));
  o.emplace("site", Text(d, "site"));
  o.emplace("tariff", Text(d, "tariff"));
  o.emplace("quantity", Int(d, "quantity", 1));
  return c;
}

bool Armed(const json& l) {
  const json& alert = Member(l, "alert");
  if (!alert.is_object()) return false;
  const json& channels = Member(alert, "channels");
  return channels.is_array() && !channels.empty() &&
         Int(l, "balance_cents") >= Int(alert, "threshold_cents");
}

void Reduce(json& l, const std::string& type, const json& d) {
  if (!l.is_object()) l = json::object();
  if (type == "account.opened") {
    for (const char* k : {"service", "service_name", "site", "regime", "tariffs", "holder",
                          "beneficiary_name", "low_credit_threshold_cents"}) {
      if (d.contains(k)) l[k] = d[k];
    }
    l["opened_month"] = Text(d, "opened_at").substr(0, 7);
    l["opened_at"] = Text(d, "opened_at");
    l["balance_cents"] = 0;
  } else if (type == "account.topped_up") {
    l["balance_cents"] = Int(l, "balance_cents") + Int(d, "amount_cents");
    l["movements"][Text(d, "movement_id")] = TopUpContent(d);
    // A top-up that brings the credit back to the threshold arms the alert again.
    if (Armed(l)) l["armed"] = true;
  } else if (type == "account.usage_recorded") {
    if (Text(l, "regime") == "prepaid") {
      l["balance_cents"] = Int(l, "balance_cents") - Int(d, "amount_cents");
    }
    l["movements"][Text(d, "movement_id")] = UsageContent(d);
    json& used = l["usage"][Text(d, "period")][Text(d, "tariff")];
    used = (used.is_number_integer() ? used.get<int64_t>() : 0) + Int(d, "quantity");
  } else if (type == "account.low_credit_reached") {
    l["armed"] = false;
  } else if (type == "account.low_credit_alert_set") {
    l["alert"] = d;
    l["armed"] = Armed(l);
  } else if (type == "account.invoice_issued") {
    l["closed_periods"][Text(d, "period")] = Int(d, "total_cents");
  } else if (type == "account.invoice_settled") {
    l["settled_periods"][Text(d, "period")] = Text(d, "receipt_id");
  } else if (type == "account.closed") {
    l["closed_at"] = Text(d, "closed_at");  // its last period is still invoiced
  }
}

const json* FindTariff(const json& ledger, const std::string& id) {
  auto tariffs = ledger.find("tariffs");
  if (tariffs == ledger.end()) return nullptr;
  for (const auto& t : *tariffs) {
    if (Text(t, "id") == id) return &t;
  }
  return nullptr;
}

std::vector<std::string> TariffsPer(const json& ledger, const char* per) {
  std::vector<std::string> out;
  const json& tariffs = Member(ledger, "tariffs");
  if (!tariffs.is_array()) return out;
  for (const auto& t : tariffs) {
    if (Text(t, "per") == per) out.push_back(Text(t, "id"));
  }
  return out;
}

DeciderOutcome Refuse(std::string why) {
  DeciderOutcome out;
  out.refusal = std::move(why);
  return out;
}

// The same movement id: nothing to do when it says the same, refused when it does not. The
// content is built only for an id seen before.
std::optional<DeciderOutcome> Repeated(const json& ledger, const std::string& id,
                                       json (*content_of)(const json&), const json& p) {
  auto movements = ledger.find("movements");
  if (movements == ledger.end()) return std::nullopt;
  auto it = movements->find(id);
  if (it == movements->end()) return std::nullopt;
  if (*it == content_of(p)) return DeciderOutcome{};
  return Refuse(
      fmt::format("movement '{}' was already recorded as {}; a new movement needs a "
                  "new movement_id, and a repeated one the same content",
                  id, it->dump()));
}

DeciderOutcome TopUp(const json& ledger, const json& p) {
  if (Text(ledger, "regime") != "prepaid") {
    return Refuse(
        fmt::format("service '{}' is billed periodically: there is no credit to top up; "
                    "its invoices are paid instead",
                    Text(ledger, "service")));
  }
  const std::string id = p.value("movement_id", "");
  if (auto r = Repeated(ledger, id, TopUpContent, p)) return std::move(*r);
  // A top-up's date is a day: its zone does not matter.
  if (p.contains("date") && BillingPeriodOf(p["date"].get<std::string>(), {}).empty()) {
    return Refuse(fmt::format("date '{}' is not a day of the calendar; give it as YYYY-MM-DD",
                              p["date"].get<std::string>()));
  }
  json data = p;
  data["balance_cents"] = Int(ledger, "balance_cents") + Int(p, "amount_cents");
  DeciderOutcome out;
  out.events.emplace_back("account.topped_up", std::move(data));
  return out;
}

DeciderOutcome Usage(const ServiceCatalogue& services, const BillingRule& rule,
                     const WorkflowState& state, const json& ledger, json p) {
  const std::vector<std::string> per_use = TariffsPer(ledger, "use");
  if (per_use.empty()) {
    return Refuse(
        fmt::format("service '{}' charges per period only, not per use; nothing to "
                    "record (its invoices carry the period's tariffs)",
                    Text(ledger, "service")));
  }
  if (!p.contains("tariff")) p["tariff"] = per_use.front();
  if (!p.contains("quantity")) p["quantity"] = 1;
  // The instant of a use (a terminal's clock) counts on the Ente's local day, in every check
  // below and in the movement's content.
  if (Text(p, "date").size() > 10) {
    if (auto day = LocalDayOf(Text(p, "date"), rule)) {
      p["used_at"] = p["date"];
      p["date"] = FormatDate(*day);
    }
  }
  const std::string id = p.value("movement_id", "");
  if (auto r = Repeated(ledger, id, UsageContent, p)) return std::move(*r);

  const std::string service_id = Text(ledger, "service");
  const TenantServices* tenant = services.ForTenant(state.tenant);
  const Service* service = tenant == nullptr ? nullptr : tenant->Find(service_id);
  if (service == nullptr) {
    return Refuse(
        fmt::format("service '{}' is not in the services catalogue of {} any more; "
                    "restore it in domain/services/{}.json",
                    service_id, state.tenant, state.tenant));
  }
  const std::string site = Text(p, "site");
  if (std::find(service->sites.begin(), service->sites.end(), site) == service->sites.end()) {
    return Refuse(fmt::format("site '{}' is not a site of service '{}'; use one of: {}", site,
                              service_id, fmt::join(service->sites, ", ")));
  }
  const std::string tariff_id = Text(p, "tariff");
  const json* tariff = FindTariff(ledger, tariff_id);
  if (tariff == nullptr || Text(*tariff, "per") != "use") {
    return Refuse(fmt::format("'{}' is not a tariff per use of service '{}'; use one of: {}",
                              tariff_id, service_id, fmt::join(per_use, ", ")));
  }
  const std::string date = Text(p, "date");
  const std::string period = BillingPeriodOf(date, rule);
  if (period.empty()) {
    return Refuse(
        fmt::format("date '{}' is not a day of the calendar; give it as YYYY-MM-DD", date));
  }
  if (const json& closed = Member(ledger, "closed_periods");
      closed.is_object() && closed.contains(period)) {
    return Refuse(
        fmt::format("the billing period {} is closed: its invoice was issued; a "
                    "movement of that month cannot be added, record it in an open "
                    "month or have the Ente issue a correction",
                    period));
  }
  const int64_t unit = Int(*tariff, "amount_cents");
  const int64_t amount = unit * Int(p, "quantity");
  json data = std::move(p);
  data["period"] = period;
  data["unit_amount_cents"] = unit;
  data["amount_cents"] = amount;
  DeciderOutcome out;
  if (Text(ledger, "regime") != "prepaid") {
    out.events.emplace_back("account.usage_recorded", std::move(data));
    return out;
  }
  const int64_t after = Int(ledger, "balance_cents") - amount;
  data["balance_cents"] = after;
  out.events.emplace_back("account.usage_recorded", std::move(data));
  // Decided with the usage that crosses, once: the ledger disarms it until a top-up.
  static const json kNoAlert = json::object();
  const json& alert = Member(ledger, "alert").is_object() ? Member(ledger, "alert") : kNoAlert;
  const int64_t threshold = Int(alert, "threshold_cents");
  if (ledger.value("armed", false) && after < threshold) {
    json reached = {{"movement_id", id},
                    {"balance_cents", after},
                    {"threshold_cents", threshold},
                    {"channels", alert.value("channels", json::array())},
                    {"service", service_id},
                    {"service_name", Text(ledger, "service_name")},
                    {"beneficiary_name", Text(ledger, "beneficiary_name")}};
    for (const char* k : {"email", "phone"}) {
      if (alert.contains(k)) reached[k] = alert[k];
    }
    out.events.emplace_back("account.low_credit_reached", std::move(reached));
  }
  return out;
}

DeciderOutcome Alert(const json& ledger, const json& p) {
  if (Text(ledger, "regime") != "prepaid") {
    return Refuse("a low-credit alert is for prepaid positions; this one is billed periodically");
  }
  json data = {{"channels", p.value("channels", json::array())}};
  if (!data["channels"].empty()) {
    const int64_t threshold =
        Int(p, "threshold_cents", Int(ledger, "low_credit_threshold_cents", 0));
    if (threshold <= 0) {
      return Refuse("the Ente set no default threshold for this service; give threshold_cents");
    }
    data["threshold_cents"] = threshold;
  }
  for (const auto& ch : data["channels"]) {
    const char* field = ch == "email" ? "email" : "phone";
    if (!p.contains(field)) {
      return Refuse(fmt::format("the alert by {} needs \"{}\": where to send it; add it",
                                ch.get<std::string>(), field));
    }
    data[field] = p[field];
  }
  DeciderOutcome out;
  out.events.emplace_back("account.low_credit_alert_set", std::move(data));
  return out;
}

}  // namespace

namespace {

// The ledger as the reducer left it, read in place: it holds every movement of the account.
const json& LedgerOf(const WorkflowState& state) {
  static const json kNone = json::object();
  auto it = state.derived.find(kLedger);
  return it == state.derived.end() ? kNone : *it;
}

}  // namespace

void RegisterAccountHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services,
                          std::shared_ptr<const CalendarCatalog> calendars) {
  hooks.AddReducer(kLedger, Reduce);
  hooks.AddDecider("account_movement", [services, calendars](const DecideContext& c) {
    const json& ledger = LedgerOf(c.state);
    if (c.command.name == "top_up_account") return TopUp(ledger, c.command.payload);
    return Usage(*services, BillingRuleOf(calendars.get(), services.get(), c.state.tenant), c.state,
                 ledger, c.command.payload);
  });
  hooks.AddDecider("low_credit_alert", [](const DecideContext& c) {
    return Alert(LedgerOf(c.state), c.command.payload);
  });
  RegisterInvoiceHooks(hooks, std::move(services), std::move(calendars));
}

}  // namespace procedo::domain
