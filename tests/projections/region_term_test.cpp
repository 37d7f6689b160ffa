// The Region's term on a Bon de Chauffage application (60 calendar days from the forwarding, on
// the H24 calendar, Europe/Rome): declared in the workflow's data, suspended while the Comune
// corrects, warned and breached by the SLA timer like any other clock.
#include <nlohmann/json.hpp>

#include "domain/sample_payloads.h"
#include "projections/sla_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const Actor kRegion = A("reg1", "region", "regione-vda");

json DataOf(const Event& e) { return json::parse(e.data); }

TEST_CASE("sla timer: the Region's term stops while the Comune corrects and resumes with the rest") {
  SlaFixture f;  // Thursday 26 Nov 2026, 10:00
  const std::string s = "voucher-comune-aosta-1";
  f.Must(A("op1", "operator"), s, "enter_application", SamplePayload("enter_application"));
  f.Must(A("val1", "validator"), s, "validate_application");
  auto forwarded = f.Must(A("val1", "validator"), s, "forward_to_region");
  ClockRow c = f.Clock(s, "region_term");
  CHECK(c.phase == ClockPhase::kRunning);
  CHECK(c.target == "60cd");
  CHECK(c.calendar == "always");
  // The 60th day after the forwarding, to its last instant.
  CHECK(f.Local(c.deadline) == "2027-01-25T23:59:59.999999+01:00");

  f.At("2026-12-06T10:00:00+01:00");  // 10 days at the Region
  f.Must(kRegion, s, "return_application", SamplePayload("return_application"));
  c = f.Clock(s, "region_term");
  CHECK(c.phase == ClockPhase::kPaused);
  CHECK(c.deadline == 0);
  CHECK(c.elapsed_before == std::chrono::duration_cast<Micros>(std::chrono::hours(240)).count());

  f.At("2026-12-16T10:00:00+01:00");  // 10 days at the Comune: they do not count
  f.Must(A("op2", "operator"), s, "correct_application", SamplePayload("correct_application"));
  f.Must(A("val1", "validator"), s, "validate_application");
  f.Must(A("val1", "validator"), s, "forward_to_region");
  c = f.Clock(s, "region_term");
  CHECK(c.phase == ClockPhase::kRunning);
  CHECK(c.start_position == forwarded.append.first_position);  // the same run, resumed
  CHECK(f.Local(c.deadline) == "2027-02-04T23:59:59.999999+01:00");

  // 80% of the budget (60 d 14 h less 1 µs): 10 days used, the rest 38 d 11 h 12 m after the
  // resumption.
  f.At("2027-01-23T21:11:00+01:00");
  CHECK(f.Sla(s).empty());
  f.At("2027-01-23T21:13:00+01:00");
  auto warnings = f.Sla(s, "sla.warning", "region_term");
  REQUIRE(warnings.size() == 1);
  CHECK(DataOf(warnings[0])["target"] == "60cd");

  f.At("2027-02-04T23:59:59.999999+01:00");
  CHECK(f.Sla(s, "sla.breached").empty());
  f.At("2027-02-05T00:00:00+01:00");
  auto breaches = f.Sla(s, "sla.breached");
  REQUIRE(breaches.size() == 1);
  json d = DataOf(breaches[0]);
  CHECK(d["clock"] == "region_term");
  CHECK(d["calendar"] == "always");
  CHECK(d["deadline"] == "2027-02-04T23:59:59.999999+01:00");
  CHECK(d["started_at"] == "2026-11-26T10:00:00+01:00");
  CHECK(breaches[0].tenant == "comune-aosta");

  // A late decision stops the clock; nothing more is recorded.
  f.Must(kRegion, s, "approve_application", SamplePayload("approve_application"));
  CHECK(f.Clock(s, "region_term").phase == ClockPhase::kStopped);
  f.At("2027-03-01T10:00:00+01:00");
  CHECK(f.Sla(s).size() == 2);
}

TEST_CASE("sla timer: a decision in time ends the Region's term with nothing recorded") {
  SlaFixture f;
  const std::string s = "voucher-comune-aosta-2";
  const Actor ov = A("ov1", "operator_validator");
  f.Must(ov, s, "enter_and_validate_application", SamplePayload("enter_application"));
  f.Must(ov, s, "forward_to_region");
  f.At("2027-01-10T10:00:00+01:00");  // before the warning (about 13 January)
  f.Must(kRegion, s, "reject_application", SamplePayload("reject_application"));
  CHECK(f.Clock(s, "region_term").phase == ClockPhase::kStopped);
  f.At("2027-03-01T10:00:00+01:00");
  CHECK(f.Sla(s).empty());
}

}  // namespace
}  // namespace procedo::testing
