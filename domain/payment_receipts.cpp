// A debt position's receipts (record_receipt) and anomalies (settle_payment_anomaly). The receipt
// is pagoPA's proof that a position was paid; what it may change is one rule, here: it pays the
// position when everything matches, and otherwise it is an anomaly that changes nothing and waits
// for an operator. Exactly once per receipt id: the reducer keeps every receipt id the position
// has recorded, so the same receipt read again (a duplicate delivery, a poll after a crash)
// records nothing even without its idempotency key.
#include <fmt/format.h>

#include "domain/calendars.h"  // kDefaultTimeZone
#include "domain/citizen.h"    // Sha256, ToHex
#include "domain/payments.h"
#include "engine/calendar/calendar_zone.h"
#include "engine/log/event.h"  // FormatTime

namespace procedo::domain {

using nlohmann::json;

std::optional<int64_t> EuroToCents(std::string_view amount) {
  // pagoPA's paymentAmount is a decimal in euro with two decimals ("120.00"); parsed as digits,
  // never as a float, so a cent is never lost to rounding.
  const size_t dot = amount.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12 || amount.size() != dot + 3) {
    return std::nullopt;
  }
  int64_t cents = 0;
  for (size_t i = 0; i < amount.size(); ++i) {
    if (i == dot) continue;
    if (amount[i] < '0' || amount[i] > '9') return std::nullopt;
    cents = cents * 10 + (amount[i] - '0');
  }
  return cents;
}

std::string CentsToEuro(int64_t cents) {
  return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", std::abs(cents / 100),
                     std::abs(cents % 100));
}

namespace {

bool PlainId(const std::string& id, size_t max) {
  if (id.empty() || id.size() > max) return false;
  for (char ch : id) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string DueInstantUtc(const std::string& date) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return "";
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                        std::chrono::day(d)};
  if (!ymd.ok()) return "";
  auto zone = ZoneTable::Get(kDefaultTimeZone);
  if (!zone.ok()) return "";
  const int64_t day = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t local = day * kMicrosPerDay + 86'399 * kMicrosPerSecond;
  return FormatTime(TimePoint(Micros((*zone)->LocalToUtc(local, /*earliest=*/true)))).substr(0, 19);
}

std::string PaymentMovementId(const std::string& receipt_id) {
  // The account's movement ids are at most 80 plain characters; a receipt id that is not gets
  // its hash, the same every time.
  if (PlainId(receipt_id, 72)) return "pagopa:" + receipt_id;
  return "pagopa:" + ToHex(Sha256(receipt_id)).substr(0, 64);
}

std::string UnmatchedReceiptStream(const std::string& tenant, const std::string& receipt_id) {
  return fmt::format("unmatched_receipt-{}-{}", tenant, ToHex(Sha256(receipt_id)).substr(0, 24));
}

namespace {

constexpr const char* kReducer = "payment_receipts";

bool Recorded(const WorkflowState& state, const std::string& receipt_id) {
  auto r = state.derived.find(kReducer);
  if (r == state.derived.end()) return false;
  const json& seen = (*r)["receipts"];
  return seen.is_object() && seen.contains(receipt_id);
}

// Why a receipt cannot pay this position, as the anomaly's kind; "" when it pays it.
std::string AnomalyOf(const WorkflowState& state, const json& receipt, int64_t paid_cents) {
  const json& f = state.fields;
  if (receipt["notice_number"] != f.value("notice_number", json()) ||
      receipt["iuv"] != f.value("iuv", json()) ||
      receipt["creditor_fiscal_code"] != f.value("creditor_fiscal_code", json())) {
    return "reference_mismatch";
  }
  if (state.status == "paid") return "duplicate_payment";
  if (state.status == "cancelled") return "position_cancelled";
  if (state.status == "expired") return "position_expired";
  if (paid_cents != f.value("amount_cents", int64_t{-1})) return "amount_mismatch";
  return "";
}

DeciderOutcome DecideReceipt(const DecideContext& c) {
  DeciderOutcome out;
  const json& p = c.command.payload;
  const std::string receipt_id = p["receipt_id"];
  if (!c.state.exists()) {
    out.refusal =
        "no debt position has this stream; a receipt for a notice Procedo did not issue "
        "goes to the tenant's unmatched receipts";
    return out;
  }
  if (p["outcome"] != "OK") {
    out.refusal = fmt::format("receipt {} has outcome KO: it proves no payment and is not recorded",
                              receipt_id);
    return out;
  }
  if (Recorded(c.state, receipt_id)) return out;  // the same receipt again: already applied
  const auto cents = EuroToCents(p["amount"].get<std::string>());
  if (!cents) {
    out.refusal = fmt::format("receipt {}: amount '{}' is not euro with two decimals", receipt_id,
                              p["amount"].get<std::string>());
    return out;
  }
  json data = {{"receipt_id", receipt_id},
               {"paid_cents", *cents},
               {"paid_at", p.value("paid_at", "")},
               {"method", p.value("method", "")},
               {"psp", p.value("psp", "")}};
  const std::string anomaly = AnomalyOf(c.state, p, *cents);
  if (anomaly.empty()) {
    out.events.emplace_back("payment_position.paid", std::move(data));
    return out;
  }
  data["kind"] = anomaly;
  data["expected_cents"] = c.state.fields.value("amount_cents", int64_t{0});
  data["notice_number"] = p["notice_number"];
  data["iuv"] = p["iuv"];
  out.events.emplace_back("payment.anomaly_recorded", std::move(data));
  return out;
}

}  // namespace

void RegisterPaymentReceiptHooks(HookRegistry& hooks) {
  hooks.AddDecider("payment_receipt", DecideReceipt);
  hooks.AddDecider("payment_anomaly_settled", [](const DecideContext& c) {
    DeciderOutcome out;
    const std::string receipt_id = c.command.payload["receipt_id"];
    auto r = c.state.derived.find(kReducer);
    const json* anomaly = nullptr;
    if (r != c.state.derived.end() && (*r)["open"].is_object() &&
        (*r)["open"].contains(receipt_id)) {
      anomaly = &(*r)["open"][receipt_id];
    }
    if (anomaly == nullptr) {
      out.refusal = fmt::format(
          "this position has no open anomaly for receipt {}; the open ones are listed in "
          "GET /v1/payments/anomalies",
          receipt_id);
      return out;
    }
    out.events.emplace_back("payment.anomaly_settled",
                            json{{"receipt_id", receipt_id},
                                 {"kind", (*anomaly)["kind"]},
                                 {"resolution", c.command.payload["resolution"]}});
    return out;
  });
  hooks.AddReducer(kReducer, [](json& r, const std::string& type, const json& data) {
    if (!r.is_object()) r = {{"receipts", json::object()}, {"open", json::object()}};
    const std::string id = data.value("receipt_id", "");
    if (type == "payment_position.paid") {
      r["receipts"][id] = "paid";
    } else if (type == "payment.anomaly_recorded") {
      r["receipts"][id] = data.value("kind", "");
      r["open"][id] = {{"kind", data.value("kind", "")}};
    } else if (type == "payment.anomaly_settled") {
      r["open"].erase(id);
    }
  });
}

}  // namespace procedo::domain
