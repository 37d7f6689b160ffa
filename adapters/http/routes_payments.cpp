// Seed 003's payments through pagoPA over HTTP, from the payments projection: the Ente's debt
// positions (one, or a list by state or by what they are for), what is open (anomalies and
// receipts for no position, until an operator settles them) and the daily reconciliation. The
// money is the Ente's: its staff and integrators read it (domain::MayReadPayments), each only
// their own tenant's; a position of another tenant is "not found", as one that does not exist.
#include <fmt/format.h>

#include <regex>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "domain/access.h"
#include "projections/views/payments.h"

namespace procedo::http {
namespace {

using nlohmann::json;
using projections::PaymentsProjection;

// The caller, the views, the read rule and the tenant, as every payments route checks them.
bool PaymentsAsked(Api& api, Request& req, Principal* who, std::string* tenant, Response* out) {
  if (!RequirePrincipal(api, req, who, out)) return false;
  if (api.views == nullptr) {
    *out = Response::Problem(503, "views-unavailable", "The views are not available",
                             "this server runs no projections");
    return false;
  }
  if (!domain::MayReadPayments(*who)) {
    *out = NotAllowed("the Ente's payments are its staff's and integrators' to read");
    return false;
  }
  if (!TenantFor(req, *who, /*required=*/true, tenant, out)) return false;
  return WaitForViews(api, req, out);
}

struct Sum {
  int64_t count = 0, cents = 0;
  json ToJson() const { return {{"count", count}, {"cents", cents}}; }
};

// A day's ledger: every receipt recorded, and where its money went (applied to a position, held
// as an anomaly, held as a receipt for no position); and the positions created, cancelled and
// expired. Received = applied + held, to the cent, or the report says where it does not.
Result<json> Reconciliation(const ViewStore& views, const std::string& tenant,
                            const std::string& date) {
  std::map<std::string, Sum> sums;
  json entries = json::array();
  const std::string prefix = PaymentsProjection::DayPrefix(tenant, date);
  std::string after;
  while (true) {
    auto rows = views.Scan(PaymentsProjection::kName, prefix, after, 1000);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      json e = json::parse(r.value, nullptr, false);
      if (!e.is_object()) continue;
      Sum& s = sums[e.value("kind", "")];
      s.count++;
      s.cents += e.value("amount_cents", int64_t{0});
      entries.push_back(std::move(e));
    }
    if (rows->size() < 1000) break;
    after = rows->back().key;
  }
  Sum received;
  for (const char* k : {"paid", "anomaly", "unmatched"}) {
    received.count += sums[k].count;
    received.cents += sums[k].cents;
  }
  json totals = json::object();
  for (const char* k : {"created", "cancelled", "expired", "paid", "anomaly", "unmatched"}) {
    totals[k] = sums[k].ToJson();
  }
  totals["received"] = received.ToJson();
  const int64_t accounted = sums["paid"].cents + sums["anomaly"].cents + sums["unmatched"].cents;
  return json{{"tenant", tenant},
              {"date", date},
              {"totals", totals},
              {"balanced", accounted == received.cents},
              {"held_cents", sums["anomaly"].cents + sums["unmatched"].cents},
              {"entries", std::move(entries)}};
}

std::string Csv(const json& report) {
  // For the accounts office's spreadsheet: one line per entry, amounts in euro with a comma.
  std::string out = "data;ora;tipo;posizione;ricevuta;anomalia;importo\n";
  auto field = [](std::string s) {
    for (char& c : s) {
      if (c == ';' || c == '\n' || c == '\r' || c == '"') c = ' ';
    }
    // A leading = + - @ would be a formula to a spreadsheet.
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) s = "'" + s;
    return s;
  };
  for (const auto& e : report["entries"]) {
    const int64_t c = e.value("amount_cents", int64_t{0});
    out += fmt::format("{};{};{};{};{};{};{},{:02}\n", report.value("date", ""),
                       field(e.value("at", "")), field(e.value("kind", "")),
                       field(e.value("stream", "")), field(e.value("receipt_id", "")),
                       field(e.value("anomaly", "")), c / 100, c % 100);
  }
  return out;
}

}  // namespace

void AddPaymentRoutes(Router& router, Api& api) {
  // ?status=created|published|paid|expired|cancelled, ?reference=<stream>.
  router.Add(
      "GET", "/v1/payments",
      [&api](Request& req) {
        Principal who;
        std::string tenant;
        Response out;
        if (!PaymentsAsked(api, req, &who, &tenant, &out)) return out;
        const std::string status = req.Query("status").value_or("");
        static const std::set<std::string> kStates = {"created", "published", "paid", "expired",
                                                      "cancelled"};
        if (!status.empty() && !kStates.count(status)) {
          return BadParameter("status", "one of created, published, paid, expired, cancelled");
        }
        const std::string reference = req.Query("reference").value_or("");
        if (!reference.empty() && !ValidateStreamId(reference).ok()) {
          return BadParameter("reference",
                              "the stream a position is for (an account, an enrolment)");
        }
        const std::string prefix = PaymentsProjection::PositionsPrefix(tenant);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        auto result =
            ScanPage(*api.views, PaymentsProjection::kName, prefix, page, [&](json& item) {
              return (status.empty() || item.value("status", "") == status) &&
                     (reference.empty() || item.value("reference", "") == reference);
            });
        if (!result.ok()) return Response::FromStatus(result.status());
        return Response::Json(200, PageBody(std::move(result).value(), {{"tenant", tenant}}));
      },
      /*blocking=*/true);

  router.Add(
      "GET", "/v1/payments/anomalies",
      [&api](Request& req) {
        Principal who;
        std::string tenant;
        Response out;
        if (!PaymentsAsked(api, req, &who, &tenant, &out)) return out;
        const std::string prefix = PaymentsProjection::OpenAnomaliesPrefix(tenant);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        auto result = ScanPage(*api.views, PaymentsProjection::kName, prefix, page,
                               [](json&) { return true; });
        if (!result.ok()) return Response::FromStatus(result.status());
        return Response::Json(200, PageBody(std::move(result).value(), {{"tenant", tenant}}));
      },
      /*blocking=*/true);

  // ?date=YYYY-MM-DD (the Ente's day), ?format=csv for the accounts office.
  router.Add(
      "GET", "/v1/payments/reconciliation",
      [&api](Request& req) {
        Principal who;
        std::string tenant;
        Response out;
        if (!PaymentsAsked(api, req, &who, &tenant, &out)) return out;
        static const std::regex kDate("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
        const std::string date = req.Query("date").value_or("");
        if (!std::regex_match(date, kDate)) return BadParameter("date", "a day as YYYY-MM-DD");
        const std::string format = req.Query("format").value_or("json");
        if (format != "json" && format != "csv") return BadParameter("format", "json or csv");
        auto report = Reconciliation(*api.views, tenant, date);
        if (!report.ok()) return Response::FromStatus(report.status());
        if (format == "json") return Response::Json(200, *report);
        Response r;
        r.content_type = "text/csv; charset=utf-8";
        r.body = Csv(*report);
        return r;
      },
      /*blocking=*/true);

  router.Add(
      "GET", "/v1/payments/{stream}",
      [&api](Request& req) {
        Principal who;
        std::string tenant;
        Response out;
        if (!PaymentsAsked(api, req, &who, &tenant, &out)) return out;
        const std::string& stream = req.params["stream"];
        if (!stream.starts_with("payment-") || !ValidateStreamId(stream).ok()) {
          return BadParameter("stream", "a debt position's id (payment-<tenant>-<n>)");
        }
        auto row = api.views->Get(PaymentsProjection::kName,
                                  PaymentsProjection::PositionKey(tenant, stream));
        if (!row.ok()) return Response::FromStatus(row.status());
        if (!row->has_value()) {
          return Response::Problem(404, "payment-not-found", "Debt position not found",
                                   fmt::format("no debt position {} that you may read", stream));
        }
        return Response::Json(200, json::parse(**row, nullptr, false));
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
