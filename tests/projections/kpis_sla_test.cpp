// Help-desk KPIs and the SLA dashboard over a week of tickets whose business-time durations are
// computed by hand below (help desk: Mon-Fri 08:00-13:00 and 14:00-17:00, Europe/Rome, CET in
// November 2026; reports on non-working days count from 09:00 of the next working day).
#include "projection_fixture.h"
#include "projections/views/helpdesk_kpis.h"
#include "projections/views/sla_dashboard.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::HelpdeskKpisProjection;
using projections::SlaDashboardProjection;

const json kTech = {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}};
const json kSolve = {{"solution", "Fatto"}, {"answered_by", "email"}};

void Week(ProjectionFixture& f) {
  const auto hd = A("hd", "helpdesk_l1");
  const auto cit = A("cit1", "citizen");
  // The log's clock never goes back, so the commands run in time order. Per ticket:
  // t1 portal: opened Mon 2 Nov 08:00, taken 08:20 -> TP 20 min = 1200 s; resolved 10:20 -> TR
  //    2 h = 7200 s; closed; reopened Tue 10:00, resolved 11:00 -> TR 3600 s.
  // t2 email: opened Mon 12:50, taken 14:30 -> 10 min + 30 min = 2400 s (target 45 min: met);
  //    resolved Tue 09:30 -> Mon 14:30-17:00 2.5 h + Tue 08:00-09:30 1.5 h = 14400 s.
  // t3 phone: opened Mon 16:00, taken Tue 08:30 -> 60 + 30 min = 5400 s (target 90 min: met,
  //    not over); resolved Tue 17:00 -> 08:30-13:00 4.5 h + 14:00-17:00 3 h = 27000 s > 6 h.
  // t5 portal: opened Wed 4 Nov 09:00, taken 09:10 -> 600 s; never resolved.
  // t4 portal: opened Saturday 7 Nov 10:00, which counts from Mon 9 Nov 09:00; taken 09:45 ->
  //    2700 s > 30 min (breached); escalated to level 2; resolved 16:45 -> 09:45-13:00 3.25 h +
  //    14:00-16:45 2.75 h = 21600 s, within level 2's 8 h.
  // t6 portal: opened Tue 10 Nov 09:00, not taken: its TP clock is open (warning at 80 % = 24
  //    business minutes, 09:24; deadline 09:30).
  f.MustAt("2026-11-02T08:00:00+01:00", cit, "ticket-1", "open_ticket",
           TicketPayload("portal", "normal"));
  f.MustAt("2026-11-02T08:20:00+01:00", hd, "ticket-1", "take_in_charge", kTech);
  f.MustAt("2026-11-02T10:20:00+01:00", hd, "ticket-1", "resolve_ticket", kSolve);
  f.MustAt("2026-11-02T11:00:00+01:00", hd, "ticket-1", "close_ticket", json::object());
  f.MustAt("2026-11-02T12:50:00+01:00", hd, "ticket-2", "open_ticket",
           TicketPayload("email", "high"));
  f.MustAt("2026-11-02T14:30:00+01:00", hd, "ticket-2", "take_in_charge", kTech);
  f.MustAt("2026-11-02T16:00:00+01:00", hd, "ticket-3", "open_ticket",
           TicketPayload("phone", "low"));
  f.MustAt("2026-11-03T08:30:00+01:00", hd, "ticket-3", "take_in_charge", kTech);
  f.MustAt("2026-11-03T09:30:00+01:00", hd, "ticket-2", "resolve_ticket", kSolve);
  f.MustAt("2026-11-03T10:00:00+01:00", cit, "ticket-1", "reopen_ticket", {{"text", "Di nuovo"}});
  f.MustAt("2026-11-03T11:00:00+01:00", hd, "ticket-1", "resolve_ticket", kSolve);
  f.MustAt("2026-11-03T17:00:00+01:00", hd, "ticket-3", "resolve_ticket", kSolve);
  f.MustAt("2026-11-04T09:00:00+01:00", hd, "ticket-5", "open_ticket",
           TicketPayload("portal", "normal"));
  f.MustAt("2026-11-04T09:10:00+01:00", hd, "ticket-5", "take_in_charge", kTech);
  f.MustAt("2026-11-07T10:00:00+01:00", cit, "ticket-4", "open_ticket",
           TicketPayload("portal", "urgent"));
  f.MustAt("2026-11-09T09:45:00+01:00", hd, "ticket-4", "take_in_charge", kTech);
  f.MustAt("2026-11-09T10:00:00+01:00", hd, "ticket-4", "escalate_ticket",
           {{"reason", "Sistema"}, {"technician", "tec-verdi"}, {"technician_name", "Luca Verdi"}});
  f.MustAt("2026-11-09T16:45:00+01:00", A("l2", "helpdesk_l2"), "ticket-4", "resolve_ticket",
           kSolve);
  f.MustAt("2026-11-10T09:00:00+01:00", cit, "ticket-6", "open_ticket",
           TicketPayload("portal", "normal"));
  // A reminder on the ticket still waiting, and a complaint about one resolved last week.
  f.MustAt("2026-11-10T09:05:00+01:00", cit, "ticket-6", "record_reminder", {{"text", "Allora?"}});
  f.MustAt("2026-11-10T09:06:00+01:00", hd, "ticket-3", "record_complaint", {{"text", "Lenti"}});
  f.CatchUp();
}

TEST_CASE("help-desk KPIs: counts, exact mean and 90th percentile, breach and reopen rates",
          "[projections][kpis]") {
  ProjectionFixture f;
  Week(f);
  json row = f.Row(HelpdeskKpisProjection::kName,
                   HelpdeskKpisProjection::MonthKey("comune-aosta", "2026-11"));
  // TP: 1200, 2400, 5400, 2700, 600 -> sorted 600 1200 2400 2700 5400; mean 12300 / 5 = 2460;
  // p90 is the ceil(0.9 * 5) = 5th smallest: 5400. TR: 7200, 3600, 14400, 27000, 21600 ->
  // 3600 7200 14400 21600 27000; mean 73800 / 5 = 14760; p90 27000.
  CHECK(row["take_in_charge"]["seconds"] == json({600, 1200, 2400, 2700, 5400}));
  CHECK(row["resolution"]["seconds"] == json({3600, 7200, 14400, 21600, 27000}));
  json k = projections::RenderKpis(row);
  CHECK(k["opened"] == 6);
  CHECK(k["resolved"] == 5);
  CHECK(k["closed"] == 1);
  CHECK(k["reopened"] == 1);
  CHECK(k["reminders"] == 1);
  CHECK(k["complaints"] == 1);
  CHECK(k["take_in_charge"]["mean_seconds"].get<double>() == 2460.0);
  CHECK(k["take_in_charge"]["p90_seconds"] == 5400);
  CHECK(k["take_in_charge"]["breached"] == 1);  // t4
  CHECK(k["resolution"]["mean_seconds"].get<double>() == 14760.0);
  CHECK(k["resolution"]["p90_seconds"] == 27000);
  CHECK(k["resolution"]["breached"] == 1);  // t3
  CHECK(k["breach_rate"].get<double>() == Approx(2.0 / 10.0));
  CHECK(k["reopen_rate"].get<double>() == Approx(1.0 / 5.0));
  CHECK_FALSE(f.views
                  ->Get(HelpdeskKpisProjection::kName,
                        HelpdeskKpisProjection::MonthKey("comune-aosta", "2026-10"))
                  ->has_value());
}

TEST_CASE("SLA dashboard: open clocks by warning instant, met and breached per month",
          "[projections][sla]") {
  ProjectionFixture f;
  Week(f);
  json month = f.Row(SlaDashboardProjection::kName,
                     SlaDashboardProjection::MonthKey("comune-aosta", "2026-11"));
  // TP: only t4 over its target. TR (target chosen at the start, level 1, 6 h): t3 over; t4 took
  // exactly 6 h, which is on time.
  CHECK(month["by_clock"]["take_in_charge"] == json({{"met", 4}, {"breached", 1}}));
  CHECK(month["by_clock"]["resolution"] == json({{"met", 4}, {"breached", 1}}));
  CHECK(month["reminders"] == 1);
  CHECK(month["complaints"] == 1);

  std::vector<json> open;
  for (const auto& r :
       f.Rows(SlaDashboardProjection::kName, SlaDashboardProjection::OpenPrefix("comune-aosta"))) {
    open.push_back(json::parse(r.value));
  }
  auto find = [&](const std::string& stream, const std::string& clock) -> json {
    for (const auto& o : open) {
      if (o["stream"] == stream && o["clock"] == clock) return o;
    }
    return nullptr;
  };
  json tp6 = find("ticket-6", "take_in_charge");
  REQUIRE(tp6.is_object());
  CHECK(At(tp6["warn_at"]) == At("2026-11-10T09:24:00+01:00"));
  CHECK(At(tp6["deadline"]) == At("2026-11-10T09:30:00+01:00"));
  CHECK(tp6["reminders"] == 1);  // the clock at risk shows the requester pressing
  CHECK(find("ticket-5", "take_in_charge").is_null());  // stopped
  CHECK(find("ticket-5", "resolution").is_object());    // running
  CHECK(find("ticket-1", "resolution").is_null());
  // Keys are ordered by the warning instant: the scan order is the order of urgency.
  for (size_t i = 1; i < open.size(); ++i)
    CHECK(At(open[i - 1]["warn_at"]) <= At(open[i]["warn_at"]));
}

TEST_CASE("SLA dashboard: a case's term clock pauses while suspended", "[projections][sla]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const std::string s = "case-comune-aosta-9";
  f.MustAt("2026-11-05T10:00:00+01:00", op, s, "start_case",
           CasePayload("access_to_records", "C9"));
  f.MustAt("2026-11-09T10:00:00+01:00", op, s, "suspend_case", {{"reason", "Parere"}});
  f.CatchUp();
  CHECK(f.Rows(SlaDashboardProjection::kName, SlaDashboardProjection::OpenPrefix("comune-aosta"))
            .empty());
  f.MustAt("2026-11-11T16:00:00+01:00", op, s, "resume_case", {{"reason", "Ok"}});
  f.CatchUp();
  auto rows =
      f.Rows(SlaDashboardProjection::kName, SlaDashboardProjection::OpenPrefix("comune-aosta"));
  REQUIRE(rows.size() == 1);
  json o = json::parse(rows[0].value);
  // The same rule as the case view: 30 calendar days, pushed by the 2 d 6 h of suspension.
  CHECK(At(o["deadline"]) == At("2026-12-08T05:59:59.999999+01:00"));
  CHECK(o["groups"]["office_name"] == "Ufficio Relazioni con il Pubblico");
  f.MustAt("2026-12-01T10:00:00+01:00", op, s, "close_case",
           {{"outcome", "accepted"}, {"reason", "Ok"}});
  f.CatchUp();
  json m = f.Row(SlaDashboardProjection::kName,
                 SlaDashboardProjection::MonthKey("comune-aosta", "2026-12"));
  CHECK(m["by_procedure"]["access_to_records"] == json({{"met", 1}, {"breached", 0}}));
}

TEST_CASE("SLA dashboard: the Region's term on an application counts for the Region",
          "[projections][sla]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const auto val = A("val1", "validator");
  const auto region = A("reg1", "region", "regione-vda");
  const std::string s = "voucher-comune-aosta-9";
  auto open = [&](const std::string& tenant) {
    std::vector<json> out;
    for (const auto& r :
         f.Rows(SlaDashboardProjection::kName, SlaDashboardProjection::OpenPrefix(tenant))) {
      out.push_back(json::parse(r.value));
    }
    return out;
  };
  f.MustAt("2026-11-02T09:00:00+01:00", op, s, "enter_application", VoucherPayload());
  f.MustAt("2026-11-02T09:30:00+01:00", val, s, "validate_application");
  f.MustAt("2026-11-02T10:00:00+01:00", val, s, "forward_to_region");
  f.CatchUp();
  CHECK(open("comune-aosta").empty());
  auto rows = open("regione-vda");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["clock"] == "region_term");
  CHECK(rows[0]["stream"] == s);
  CHECK(At(rows[0]["deadline"]) == At("2027-01-01T23:59:59.999999+01:00"));
  CHECK(rows[0]["groups"]["office_name"] == "Dipartimento Industria, Artigianato ed Energia");
  CHECK(rows[0]["groups"]["procedure_id"] == "heating_voucher");

  // Sent back on day 10, forwarded again 8 days later: the deadline moves by those 8 days.
  f.MustAt("2026-11-12T10:00:00+01:00", region, s, "return_application",
           {{"reason", "Manca l'ISEE"}});
  f.CatchUp();
  CHECK(open("regione-vda").empty());
  f.MustAt("2026-11-20T09:00:00+01:00", A("op2", "operator"), s, "correct_application",
           {{"corrections", "ISEE allegato"}});
  f.MustAt("2026-11-20T09:30:00+01:00", val, s, "validate_application");
  f.MustAt("2026-11-20T10:00:00+01:00", val, s, "forward_to_region");
  f.CatchUp();
  rows = open("regione-vda");
  REQUIRE(rows.size() == 1);
  CHECK(At(rows[0]["deadline"]) == At("2027-01-09T23:59:59.999999+01:00"));

  f.MustAt("2026-12-10T10:00:00+01:00", region, s, "approve_application", {{"amount", 300}});
  f.CatchUp();
  CHECK(open("regione-vda").empty());
  json m = f.Row(SlaDashboardProjection::kName,
                 SlaDashboardProjection::MonthKey("regione-vda", "2026-12"));
  CHECK(m["by_clock"]["region_term"] == json({{"met", 1}, {"breached", 0}}));
  CHECK(m["by_procedure"]["heating_voucher"] == json({{"met", 1}, {"breached", 0}}));
  CHECK(f.Rows(SlaDashboardProjection::kName, SlaDashboardProjection::MonthPrefix("comune-aosta"))
            .empty());
}

}  // namespace
}  // namespace procedo::testing
