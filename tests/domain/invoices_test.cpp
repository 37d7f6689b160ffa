// Billing periods in the Ente's local time and the invoices of periodic positions: a use near
// midnight counts in the local month, a month is invoiced once it is over in Rome (both sides of
// the boundary, in winter and in summer time), a school year's tariffs once per school year at
// the frozen (ISEE-reduced) amount, a closed position's last month, and never a prepaid one.
#include "domain/accounts.h"
#include "domain/billing_periods.h"
#include "domain/enrolment_steps.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

using domain::BillingPeriodOf;
using domain::BillingRule;

const Actor kOp = A("op1", "operator");
const Actor kInvoicing = Actor::System("invoicing", "comune-aosta");

TimePoint At(const std::string& rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

// Applied online, ranked and admitted: the account of `service`.
std::string Admitted(WorkflowFixture& f, int n, const std::string& service, const std::string& site,
                     int64_t isee) {
  const std::string s = "enrolment-comune-aosta-" + std::to_string(n);
  const Actor cit = A("cit1", "citizen");
  json start = SamplePayload("start_enrolment");
  start["services"] = {service};
  start["site"] = site;
  start["isee_cents"] = isee;
  f.Must(cit, s, "start_enrolment", start);
  f.Must(cit, s, "complete_details", {{"details", {{service, SampleAnswers(service)}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(kOp, s, "rank_for_service", {{"service", service}});
  f.Must(kOp, s, "admit_to_service", {{"service", service}});
  return domain::AccountStream(s, service);
}

Rejection Refused(WorkflowFixture& f, const Actor& who, const std::string& stream, json payload) {
  const uint64_t head = f.logf.log->LastPosition();
  auto r = f.Run(who, stream, "issue_invoice", std::move(payload));
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->accepted());
  CHECK(f.logf.log->LastPosition() == head);
  return *r->rejection;
}

json Issued(WorkflowFixture& f, const std::string& account, const std::string& period) {
  auto out = f.Must(kInvoicing, account, "issue_invoice", {{"period", period}});
  REQUIRE(out.append.events.size() == 1);
  return json::parse(out.append.events[0]->data);
}

}  // namespace

TEST_CASE("a use's month and a period's end are judged in Rome, across midnight and DST",
          "[accounts][invoicing]") {
  const BillingRule rome;
  // Winter (UTC+1): 23:30 UTC on 31 January is 00:30 on 1 February in Rome.
  CHECK(BillingPeriodOf("2026-01-31T23:30:00Z", rome) == "2026-02");
  CHECK(BillingPeriodOf("2026-01-31T22:59:59Z", rome) == "2026-01");
  // Summer (UTC+2): the boundary is 22:00 UTC.
  CHECK(BillingPeriodOf("2026-07-31T22:00:00Z", rome) == "2026-08");
  CHECK(BillingPeriodOf("2026-07-31T21:59:59Z", rome) == "2026-07");
  CHECK(BillingPeriodOf("2026-08-01T00:30:00+02:00", rome) == "2026-08");
  CHECK(BillingPeriodOf("2026-01-31", rome) == "2026-01");  // a day is the Ente's own
  CHECK(BillingPeriodOf("2026-02-30", rome).empty());
  CHECK(BillingPeriodOf("yesterday", rome).empty());

  auto march = domain::ParsePeriod("2026-03", rome);  // DST starts on 29 March
  REQUIRE(march);
  CHECK(march->begins == At("2026-02-28T23:00:00Z"));
  CHECK(march->ends == At("2026-03-31T22:00:00Z"));
  CHECK_FALSE(domain::HasEnded(*march, At("2026-03-31T21:59:59Z")));
  CHECK(domain::HasEnded(*march, At("2026-03-31T22:00:00Z")));
  auto october = domain::ParsePeriod("2026-10", rome);  // DST ends on 25 October
  REQUIRE(october);
  CHECK(october->ends == At("2026-10-31T23:00:00Z"));
  CHECK(domain::NextPeriod(*october, rome).id == "2026-11");

  auto year = domain::ParsePeriod("2026/27", rome);
  REQUIRE(year);
  CHECK(year->begins == At("2026-08-31T22:00:00Z"));
  CHECK(year->ends == At("2027-08-31T22:00:00Z"));
  CHECK(domain::PeriodAt(At("2027-01-15T12:00:00Z"), domain::PeriodKind::kSchoolYear, rome)->id ==
        "2026/27");
  CHECK(domain::NextPeriod(*year, rome).id == "2027/28");
  CHECK_FALSE(domain::ParsePeriod("2026/28", rome));
  CHECK_FALSE(domain::ParsePeriod("2026-13", rome));
  BillingRule february;
  february.school_year_starts = std::chrono::February / 1;
  CHECK(
      domain::PeriodAt(At("2027-01-15T12:00:00Z"), domain::PeriodKind::kSchoolYear, february)->id ==
      "2026/27");
  CHECK(
      domain::PeriodAt(At("2027-02-15T12:00:00Z"), domain::PeriodKind::kSchoolYear, february)->id ==
      "2027/28");
}

TEST_CASE(
    "a use at 23:30 UTC on a month's last day lands in the next local month, and a month "
    "is invoiced only once it is over in Rome",
    "[accounts][invoicing]") {
  WorkflowFixture f;                                                             // 2026-09-21
  const std::string care = Admitted(f, 1, "home_care", "domicilio", 1'000'000);  // 9,00 an hour
  auto hour = [](const std::string& id, const std::string& when) {
    return json{{"movement_id", id}, {"date", when}, {"site", "domicilio"}};
  };
  // 31 October is in winter time (UTC+1).
  auto late = f.Must(kOp, care, "record_usage", hour("H1", "2026-10-31T23:30:00Z"));
  json d = json::parse(late.append.events.at(0)->data);
  CHECK(d["date"] == "2026-11-01");
  CHECK(d["period"] == "2026-11");
  CHECK(d["used_at"] == "2026-10-31T23:30:00Z");
  // The same instant again is the same movement.
  CHECK(
      f.Must(kOp, care, "record_usage", hour("H1", "2026-10-31T23:30:00Z")).append.events.empty());
  auto evening = f.Must(kOp, care, "record_usage", hour("H2", "2026-10-31T22:59:00Z"));
  CHECK(json::parse(evening.append.events.at(0)->data)["period"] == "2026-10");

  f.logf.clock.Set(At("2026-10-31T22:59:59Z"));  // 23:59:59 in Rome: October is not over
  CHECK_THAT(Refused(f, kInvoicing, care, {{"period", "2026-10"}}).message,
             Catch::Contains("has not ended yet"));
  f.logf.clock.Set(At("2026-10-31T23:00:00Z"));  // midnight in Rome, still 31 October in UTC
  json october = Issued(f, care, "2026-10");
  CHECK(october["total_cents"] == 900);  // H2 only: H1 is November's
  CHECK(october["issued_by"] == "invoicing");
  CHECK_THAT(Refused(f, kOp, care, {{"period", "2026-10"}}).message,
             Catch::Contains("issued already"));
  CHECK_THAT(Refused(f, kOp, care, {{"period", "2026-08"}}).message,
             Catch::Contains("opened in 2026-09"));
  CHECK(Refused(f, kOp, care, {{"period", "2026-10-01"}}).kind == Rejection::Kind::kPayloadInvalid);
}

TEST_CASE("a school year's tariffs are invoiced once per school year at the reduced amount",
          "[accounts][invoicing]") {
  WorkflowFixture f;  // 2026-09-21: school year 2026/27 has begun
  const std::string pass = Admitted(f, 1, "transport", "primaria_saint_roch", 700'000);
  const std::string nido = Admitted(f, 2, "nursery", "nido_la_trottola", 700'000);

  json year = Issued(f, pass, "2026/27");
  CHECK(year["total_cents"] == 6000);  // the yearly pass, ISEE 7,000 euro: 180,00 -> 60,00
  CHECK(year["lines"] == json::array({{{"tariff", "yearly_pass"},
                                       {"quantity", 1},
                                       {"unit_amount_cents", 6000},
                                       {"amount_cents", 6000}}}));
  CHECK_THAT(Refused(f, kOp, pass, {{"period", "2026/27"}}).message,
             Catch::Contains("issued already"));
  CHECK_THAT(Refused(f, kOp, pass, {{"period", "2027/28"}}).message,
             Catch::Contains("has not started yet"));
  CHECK_THAT(Refused(f, kOp, pass, {{"period", "2025/26"}}).message,
             Catch::Contains("opened in 2026/27"));

  // The nursery: the enrolment fee per school year, the reduced monthly fee per month.
  CHECK(Issued(f, nido, "2026/27")["lines"] == json::array({{{"tariff", "enrolment_fee"},
                                                             {"quantity", 1},
                                                             {"unit_amount_cents", 5000},
                                                             {"amount_cents", 5000}}}));
  f.logf.clock.Set(At("2026-09-30T22:00:00Z"));  // 1 October in Rome (summer time)
  json september = Issued(f, nido, "2026-09");
  CHECK(september["total_cents"] == 15000);
  f.logf.clock.Set(At("2027-08-31T22:00:00Z"));  // 1 September 2027 in Rome
  CHECK(Issued(f, pass, "2027/28")["total_cents"] == 6000);
}

TEST_CASE("a position closed in mid-month gets that month's invoice, and a prepaid one none",
          "[accounts][invoicing]") {
  WorkflowFixture f;
  const std::string nido = Admitted(f, 1, "nursery", "nido_la_trottola", 700'000);
  const std::string meals = Admitted(f, 2, "canteen", "primaria_saint_roch", 700'000);
  f.logf.clock.Set(At("2026-10-15T10:00:00Z"));
  f.Must(A("cit1", "citizen"), "enrolment-comune-aosta-1", "withdraw_from_service",
         {{"service", "nursery"}});
  REQUIRE(f.State(nido).status == "closed");
  f.logf.clock.Set(At("2026-11-01T00:00:00Z"));
  CHECK(Issued(f, nido, "2026-09")["total_cents"] == 15000);
  CHECK(Issued(f, nido, "2026-10")["total_cents"] == 15000);
  f.logf.clock.Set(At("2026-12-01T00:00:00Z"));
  CHECK_THAT(Refused(f, kInvoicing, nido, {{"period", "2026-11"}}).message,
             Catch::Contains("closed in 2026-10"));
  CHECK_THAT(Refused(f, kInvoicing, meals, {{"period", "2026-10"}}).message,
             Catch::Contains("prepaid position is not invoiced"));
}

TEST_CASE("a position admitted in the summer break is billed from the coming school year",
          "[accounts][invoicing]") {
  const BillingRule rome;  // starts 1 September, activities end on 30 June
  auto first = [&](const std::string& instant) {
    return domain::FirstPeriodBilled(*domain::LocalDayAt(At(instant), rome),
                                     domain::PeriodKind::kSchoolYear, rome)
        .id;
  };
  // Both sides of each boundary, in Rome's summer time (UTC+2).
  CHECK(first("2027-06-30T21:59:59Z") == "2026/27");  // 23:59:59 on 30 June: the last day
  CHECK(first("2027-06-30T22:00:00Z") == "2027/28");  // midnight: the summer break
  CHECK(first("2027-08-31T21:59:59Z") == "2027/28");  // the break's last second
  CHECK(first("2027-08-31T22:00:00Z") == "2027/28");  // 1 September: the year itself
  CHECK(first("2027-01-15T12:00:00Z") == "2026/27");
  // A month is a month, summer or not.
  CHECK(domain::FirstPeriodBilled(*domain::LocalDayAt(At("2027-07-15T10:00:00Z"), rome),
                                  domain::PeriodKind::kMonth, rome)
            .id == "2027-07");
  // The catalogue's own end: a Comune whose activities run to 31 July.
  BillingRule july = rome;
  july.school_year_ends = std::chrono::July / 31;
  CHECK(domain::FirstPeriodBilled(*domain::LocalDayAt(At("2027-07-15T10:00:00Z"), july),
                                  domain::PeriodKind::kSchoolYear, july)
            .id == "2026/27");
  CHECK(domain::FirstPeriodBilled(*domain::LocalDayAt(At("2027-07-31T22:00:00Z"), july),
                                  domain::PeriodKind::kSchoolYear, july)
            .id == "2027/28");

  // The decider: admitted on 1 July, the position owes the coming year's fee at once and
  // nothing for the year that is ending.
  WorkflowFixture f;
  f.logf.clock.Set(At("2027-06-30T22:00:00Z"));
  const std::string pass = Admitted(f, 1, "transport", "primaria_saint_roch", 700'000);
  CHECK_THAT(Refused(f, kInvoicing, pass, {{"period", "2026/27"}}).message,
             Catch::Contains("opened in 2027/28"));
  CHECK(Issued(f, pass, "2027/28")["total_cents"] == 6000);
  CHECK_THAT(Refused(f, kInvoicing, pass, {{"period", "2028/29"}}).message,
             Catch::Contains("has not started yet"));
  // Admitted on 30 June: the ending year's fee, and the coming one's only from its first day.
  f.logf.clock.Set(At("2027-06-30T21:59:59Z"));
  const std::string june = Admitted(f, 2, "transport", "primaria_saint_roch", 700'000);
  CHECK(Issued(f, june, "2026/27")["total_cents"] == 6000);
  CHECK_THAT(Refused(f, kInvoicing, june, {{"period", "2027/28"}}).message,
             Catch::Contains("has not started yet"));
}

TEST_CASE("the school year's end is catalogue data, checked at load", "[accounts][invoicing]") {
  auto with_end = [](TempDir& tmp, const std::string& ends) {
    return domain::LoadDomain(
        DomainWithServices(tmp,
                           [&](json& d) {
                             d["school_year"] = {{"starts", "09-01"}, {"ends", ends}};
                           }),
        SourceDir() + "/schemas");
  };
  TempDir a, b;
  auto loaded = with_end(a, "07-15");
  REQUIRE(loaded.ok());
  CHECK((*loaded)->services->ForTenant("comune-aosta")->school_year_ends == std::chrono::July / 15);
  auto same = with_end(b, "09-01");
  REQUIRE_FALSE(same.ok());
  CHECK_THAT(same.status().message(), Catch::Contains("/school_year/ends"));
}

}  // namespace procedo::testing
