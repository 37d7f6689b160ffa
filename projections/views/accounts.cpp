#include "projections/views/accounts.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

int64_t Int(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

json Opened(const Event& event, const json& d) {
  json s = {{"stream", event.stream}, {"tenant", event.tenant},    {"state", "open"},
            {"balance_cents", 0},     {"topped_up_cents", 0},      {"usage_quantity", 0},
            {"usage_cents", 0},       {"invoiced_cents", 0},       {"movements", 0},
            {"low_credit_alerts", 0}, {"invoices", json::object()}};
  for (const char* k :
       {"enrolment", "service", "service_name", "site", "regime", "tariffs", "beneficiary_name",
        "holder", "household", "opened_at", "low_credit_threshold_cents"}) {
    if (d.contains(k)) s[k] = d[k];
  }
  return s;
}

// The movement as the citizen's list shows it.
json Movement(const Event& event, const json& d) {
  json m = {
      {"type", event.type}, {"version", event.version}, {"recorded_at", FormatTime(event.time)}};
  for (const char* k :
       {"movement_id", "date", "used_at", "site", "tariff", "quantity", "unit_amount_cents",
        "amount_cents", "balance_cents", "period", "lines", "total_cents"}) {
    if (d.contains(k)) m[k] = d[k];
  }
  return m;
}

Status AddUse(ViewWriter& rows, const std::string& tenant, const json& s, const json& d) {
  const std::string key =
      AccountsProjection::DayPrefix(tenant, Text(s, "service"), Text(d, "site")) + Text(d, "date");
  auto row = GetJson(rows, key);
  if (!row.ok()) return row.status();
  json day = row->value_or(
      json{{"date", Text(d, "date")}, {"quantity", 0}, {"amount_cents", 0}, {"movements", 0}});
  day["quantity"] = Int(day, "quantity") + Int(d, "quantity");
  day["amount_cents"] = Int(day, "amount_cents") + Int(d, "amount_cents");
  day["movements"] = Int(day, "movements") + 1;
  PutJson(rows, key, day);
  return Status::Ok();
}

// The periodic position's row for the invoicing reactor: small, whatever the account's history.
json Periodic(const json& s) {
  json periods = json::array();
  bool month = false, school_year = false;
  for (const auto& t : s.value("tariffs", json::array())) {
    month = month || Text(t, "per") == "use" || Text(t, "period") == "month";
    school_year = school_year || Text(t, "period") == "school_year";
  }
  if (month) periods.push_back("month");
  if (school_year) periods.push_back("school_year");
  json p = {{"periods", periods}};
  for (const char* k : {"stream", "tenant", "state", "opened_at", "closed_at", "invoices"}) {
    if (s.contains(k)) p[k] = s[k];
  }
  return p;
}

}  // namespace

Status AccountsProjection::Apply(const Event& event, ViewWriter& rows) {
  if (StreamKind(event.stream) != "account") return Status::Ok();
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  const json& d = pe->data;
  const std::string key = SummaryKey(event.stream);
  json s;
  if (event.type == "account.opened") {
    s = Opened(event, d);
  } else {
    auto row = GetJson(rows, key);
    if (!row.ok()) return row.status();
    if (!row->has_value()) return Status::Ok();  // no account.opened: nothing to add to
    s = std::move(**row);
  }
  const bool movement = event.type == "account.topped_up" ||
                        event.type == "account.usage_recorded" ||
                        event.type == "account.invoice_issued";
  if (event.type == "account.topped_up") {
    s["balance_cents"] = Int(d, "balance_cents");
    s["topped_up_cents"] = Int(s, "topped_up_cents") + Int(d, "amount_cents");
  } else if (event.type == "account.usage_recorded") {
    if (d.contains("balance_cents")) s["balance_cents"] = d["balance_cents"];
    s["usage_quantity"] = Int(s, "usage_quantity") + Int(d, "quantity");
    s["usage_cents"] = Int(s, "usage_cents") + Int(d, "amount_cents");
    // The consumption per month, as the citizen reads it (pasti consumati a settembre).
    json& month = s["consumption"][Text(d, "period")];
    month["quantity"] = Int(month, "quantity") + Int(d, "quantity");
    month["amount_cents"] = Int(month, "amount_cents") + Int(d, "amount_cents");
    if (Status st = AddUse(rows, event.tenant, s, d); !st.ok()) return st;
  } else if (event.type == "account.invoice_issued") {
    s["invoices"][Text(d, "period")] = Int(d, "total_cents");
    s["invoiced_cents"] = Int(s, "invoiced_cents") + Int(d, "total_cents");
  } else if (event.type == "account.invoice_settled") {
    s["invoices_paid"][Text(d, "period")] = Text(d, "receipt_id");
    s["paid_cents"] = Int(s, "paid_cents") + Int(d, "amount_cents");
  } else if (event.type == "account.low_credit_alert_set") {
    s["alert"] = d;
  } else if (event.type == "account.low_credit_reached") {
    s["low_credit_alerts"] = Int(s, "low_credit_alerts") + 1;
  } else if (event.type == "account.closed") {
    s["state"] = "closed";
    s["closed_at"] = Text(d, "closed_at");
  }
  if (movement) {
    s["movements"] = Int(s, "movements") + 1;
    s["last_movement_at"] = FormatTime(event.time);
    PutJson(rows, MovementsPrefix(event.stream) + Pad20(event.version), Movement(event, d));
  }
  s["version"] = event.version;
  PutJson(rows, key, s);
  json balance = {{"stream", event.stream}, {"version", event.version}};
  for (const char* k : {"tenant", "holder", "regime", "state", "balance_cents"}) {
    if (s.contains(k)) balance[k] = s[k];
  }
  PutJson(rows, BalanceKey(event.stream), balance);
  if (Text(s, "regime") == "periodic") PutJson(rows, PeriodicKey(event.stream), Periodic(s));
  if (!Text(s, "holder").empty()) {
    json mine = s;
    mine.erase("tariffs");
    PutJson(rows, HolderPrefix(event.tenant, Text(s, "holder")) + event.stream, mine);
  }
  return Status::Ok();
}

}  // namespace procedo::projections
