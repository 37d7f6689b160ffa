#include "projections/views/payments.h"

#include "domain/calendars.h"  // kDefaultTimeZone
#include "engine/calendar/calendar_zone.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

// The Ente's day an event was recorded on (Rome time), the reconciliation's unit.
std::string LocalDay(TimePoint t) {
  static const auto zone = ZoneTable::Get(domain::kDefaultTimeZone);
  int64_t us = Us(t);
  if (zone.ok()) us += int64_t{(*zone)->OffsetAt(us)} * kMicrosPerSecond;
  return FormatTime(Tp(us)).substr(0, 10);
}

void Ledger(ViewWriter& rows, const Event& e, json entry) {
  entry["at"] = FormatTime(e.time);
  PutJson(rows, PaymentsProjection::DayPrefix(e.tenant, LocalDay(e.time)) + Pad20(e.position),
          entry);
}

Status ApplyPosition(const Event& e, const json& d, ViewWriter& rows) {
  const std::string key = PaymentsProjection::PositionKey(e.tenant, e.stream);
  json row;
  if (e.type == "payment_position.created") {
    row = {{"stream", e.stream},
           {"tenant", e.tenant},
           {"status", "created"},
           {"created_at", FormatTime(e.time)},
           {"anomalies", json::array()}};
    for (const char* k : {"purpose", "reference", "description", "amount_cents", "due_date",
                          "notice_number", "iuv", "iupd", "debtor", "created_by"}) {
      if (d.contains(k)) row[k] = d[k];
    }
    PutJson(rows,
            PaymentsProjection::ByReferencePrefix(e.tenant, d.value("reference", "")) + e.stream,
            e.stream);
    Ledger(
        rows, e,
        {{"kind", "created"}, {"stream", e.stream}, {"amount_cents", d.value("amount_cents", 0)}});
  } else {
    auto current = GetJson(rows, key);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return Status::Ok();  // a position this view never saw created
    row = std::move(**current);
    const int64_t paid = d.value("paid_cents", int64_t{0});
    const std::string receipt = d.value("receipt_id", "");
    if (e.type == "payment_position.published") {
      row["status"] = "published";
      row["published_at"] = FormatTime(e.time);
      row.erase("publication_failure");
    } else if (e.type == "payment_position.publication_failed") {
      row["publication_failure"] = {{"reason", d.value("reason", "")},
                                    {"permanent", d.value("permanent", false)},
                                    {"at", FormatTime(e.time)}};
    } else if (e.type == "payment_position.platform_call_failed") {
      row["platform_failure"] = {{"call", d.value("call", "")},
                                 {"reason", d.value("reason", "")},
                                 {"permanent", d.value("permanent", false)},
                                 {"at", FormatTime(e.time)}};
    } else if (e.type == "payment_position.paid") {
      row["status"] = "paid";
      for (const char* k : {"paid_at", "receipt_id", "paid_cents", "method", "psp"}) {
        if (d.contains(k)) row[k] = d[k];
      }
      Ledger(rows, e,
             {{"kind", "paid"},
              {"stream", e.stream},
              {"amount_cents", paid},
              {"receipt_id", receipt}});
    } else if (e.type == "payment.anomaly_recorded") {
      const std::string kind = d.value("kind", "");
      row["anomalies"].push_back({{"receipt_id", receipt},
                                  {"kind", kind},
                                  {"paid_cents", paid},
                                  {"at", FormatTime(e.time)},
                                  {"settled", false}});
      Ledger(rows, e,
             {{"kind", "anomaly"},
              {"stream", e.stream},
              {"amount_cents", paid},
              {"receipt_id", receipt},
              {"anomaly", kind}});
      PutJson(rows, PaymentsProjection::OpenAnomaliesPrefix(e.tenant) + Key({e.stream, receipt}),
              {{"stream", e.stream},
               {"receipt_id", receipt},
               {"kind", kind},
               {"paid_cents", paid},
               {"at", FormatTime(e.time)}});
    } else if (e.type == "payment.anomaly_settled") {
      for (auto& a : row["anomalies"]) {
        if (a.value("receipt_id", "") == receipt) a["settled"] = true;
      }
      rows.Delete(PaymentsProjection::OpenAnomaliesPrefix(e.tenant) + Key({e.stream, receipt}));
    } else if (e.type == "payment_position.expired" || e.type == "payment_position.cancelled") {
      const std::string status = e.type == "payment_position.expired" ? "expired" : "cancelled";
      row["status"] = status;
      Ledger(rows, e,
             {{"kind", status},
              {"stream", e.stream},
              {"amount_cents", row.value("amount_cents", int64_t{0})}});
    } else if (e.type == "payment_position.withdrawn") {
      row["withdrawn_at"] = FormatTime(e.time);
    }
  }
  row["version"] = e.version;
  PutJson(rows, key, row);
  return Status::Ok();
}

Status ApplyUnmatched(const Event& e, const json& d, ViewWriter& rows) {
  const std::string open = PaymentsProjection::OpenAnomaliesPrefix(e.tenant) + Key({e.stream, ""});
  if (e.type == "unmatched_receipt.recorded") {
    // The receipt's amount in cents: the schema admits only euro with two decimals.
    const std::string amount = d.value("amount", "0.00");
    int64_t cents = 0;
    for (char ch : amount) {
      if (ch >= '0' && ch <= '9') cents = cents * 10 + (ch - '0');
    }
    Ledger(rows, e,
           {{"kind", "unmatched"},
            {"stream", e.stream},
            {"amount_cents", cents},
            {"receipt_id", d.value("receipt_id", "")},
            {"notice_number", d.value("notice_number", "")}});
    PutJson(rows, open,
            {{"stream", e.stream},
             {"receipt_id", d.value("receipt_id", "")},
             {"kind", "unmatched"},
             {"paid_cents", cents},
             {"notice_number", d.value("notice_number", "")},
             {"at", FormatTime(e.time)}});
  } else if (e.type == "unmatched_receipt.settled") {
    rows.Delete(open);
  }
  return Status::Ok();
}

}  // namespace

Status PaymentsProjection::Apply(const Event& event, ViewWriter& rows) {
  const std::string kind = StreamKind(event.stream);
  if (kind != "payment" && kind != "unmatched_receipt") return Status::Ok();
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  return kind == "payment" ? ApplyPosition(event, pe->data, rows)
                           : ApplyUnmatched(event, pe->data, rows);
}

}  // namespace procedo::projections
