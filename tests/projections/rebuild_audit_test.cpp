// The audit trail by actor, and the rule every projection must keep: a rebuild from position 0
// writes exactly the bytes the live projection wrote.
#include <fmt/format.h>

#include <thread>

#include "domain/closures.h"
#include "domain/sample_payloads.h"
#include "engine/crypto/personal.h"
#include "projection_fixture.h"
#include "projections/views/audit_trail.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::AuditTrailProjection;

std::map<std::string, std::vector<ViewRow>> Dump(ProjectionFixture& f) {
  std::map<std::string, std::vector<ViewRow>> out;
  for (const auto& name : f.set->Names()) out[name] = f.Rows(name, "");
  return out;
}

// A bit of everything: cases with suspensions, vouchers to the Region, tickets through their life,
// and a help-desk closure announced in the middle (it changes later business-time figures).
void Traffic(ProjectionFixture& f, int round) {
  const std::string n = std::to_string(round);
  const auto op = A("op1", "operator");
  const auto hd = A("hd", "helpdesk_l1");
  // One working day per round, so that the log's clock only moves forward.
  const std::string day = fmt::format(
      "2026-{}", std::vector<std::string>{"11-02", "11-03", "11-04", "11-05", "11-06", "11-09",
                                          "11-10", "11-11", "11-12", "11-13", "11-16",
                                          "11-17"}[static_cast<size_t>(round)]);
  f.MustAt(day + "T09:00:00+01:00", op, "case-aosta-" + n, "start_case",
           CasePayload(round % 2 ? "road_occupation" : "access_to_records", "C" + n));
  f.MustAt(day + "T09:05:00+01:00", op, "case-aosta-" + n, "suspend_case", {{"reason", "Attesa"}});
  f.MustAt(day + "T11:05:00+01:00", op, "case-aosta-" + n, "resume_case", {{"reason", "Ripresa"}});
  f.MustAt(day + "T11:10:00+01:00", op, "voucher-aosta-" + n, "enter_application",
           VoucherPayload());
  f.MustAt(day + "T11:20:00+01:00", A("val1", "validator"), "voucher-aosta-" + n,
           "validate_application");
  f.MustAt(day + "T11:30:00+01:00", A("val1", "validator"), "voucher-aosta-" + n,
           "forward_to_region");
  f.MustAt(day + "T11:40:00+01:00", A("cit" + n, "citizen"), "ticket-" + n, "open_ticket",
           TicketPayload(round % 3 == 0 ? "phone" : "portal", "normal"));
  f.MustAt(day + "T12:40:00+01:00", hd, "ticket-" + n, "take_in_charge",
           {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}});
  if (round % 2 == 0) {
    f.MustAt(day + "T15:40:00+01:00", hd, "ticket-" + n, "resolve_ticket",
             {{"solution", "Fatto"}, {"answered_by", "phone"}});
  }
  // An enrolment admitted to the canteen, its account topped up and a meal consumed.
  const std::string s = "enrolment-comune-aosta-" + n;
  const auto cit = A("cit" + n, "citizen");
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  f.MustAt(day + "T16:00:00+01:00", cit, s, "start_enrolment", start);
  f.MustAt(day + "T16:01:00+01:00", cit, s, "complete_details",
           {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
  f.MustAt(day + "T16:02:00+01:00", cit, s, "submit_enrolment");
  f.MustAt(day + "T16:03:00+01:00", op, s, "rank_for_service", {{"service", "canteen"}});
  f.MustAt(day + "T16:04:00+01:00", op, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = "account-comune-aosta-" + n + "-canteen";
  f.MustAt(day + "T16:05:00+01:00", op, account, "top_up_account",
           {{"movement_id", "R" + n}, {"amount_cents", 1000}});
  f.MustAt(
      day + "T16:06:00+01:00", op, account, "record_usage",
      {{"movement_id", "M" + n}, {"date", day.substr(0, 10)}, {"site", "primaria_saint_roch"}});
  // A top-up through pagoPA: published and paid, or paid with another amount (an anomaly,
  // settled on even rounds), or cancelled.
  const std::string pay = "payment-comune-aosta-" + n;
  const Actor sys = Actor::System("payments", "comune-aosta");
  auto created = f.MustAt(
      day + "T16:07:00+01:00", op, pay, "create_payment_position",
      {{"purpose", "top_up"},
       {"reference", account},
       {"description", "Ricarica mensa"},
       {"amount_cents", 2000},
       {"due_date", "2026-12-31"},
       {"debtor", {{"type", "F"}, {"fiscal_code", "BLNCRL80A41A326K"}, {"name", "Carla"}}}});
  const json position = json::parse(created.append.events.at(0)->data);
  if (round % 3 == 2) {
    f.MustAt(day + "T16:08:00+01:00", op, pay, "cancel_payment_position", {{"reason", "Errore"}});
    return;
  }
  f.MustAt(day + "T16:08:00+01:00", sys, pay, "record_publication", {{"platform_status", "VALID"}});
  json receipt = {{"receipt_id", "R-" + n},
                  {"notice_number", position["notice_number"]},
                  {"iuv", position["iuv"]},
                  {"creditor_fiscal_code", position["creditor_fiscal_code"]},
                  {"amount", round % 3 == 0 ? "20.00" : "19.00"},
                  {"outcome", "OK"}};
  f.MustAt(day + "T16:09:00+01:00", sys, pay, "record_receipt", receipt);
  if (round % 3 == 1 && round % 2 == 0) {
    f.MustAt(day + "T16:10:00+01:00", op, pay, "settle_payment_anomaly",
             {{"receipt_id", "R-" + n}, {"resolution", "Rimborsato"}});
  }
}

TEST_CASE("projections rebuilt from 0 equal the live ones, byte for byte",
          "[projections][rebuild]") {
  ProjectionFixture f;
  // Personal data sealed, as a server with a master key runs: the views fold the sealed text
  // (and the subjects view where it stands), and a rebuild gives them byte for byte.
  f.SealPersonalData();
  {
    ProjectionRunner live(*f.logf.log, *f.views, f.set->All());
    REQUIRE(live.Start().ok());
    for (int round = 0; round < 12; ++round) {
      Traffic(f, round);
      if (round == 5) {
        // The help desk is closed on Mon 16 Nov (announced on Mon 9 Nov), which changes the figures
        // of round 10, on that day.
        Closure c{"ferie", std::chrono::year_month_day{std::chrono::year{2026} / 11 / 16},
                  std::chrono::year_month_day{std::chrono::year{2026} / 11 / 16}, "Ponte"};
        NewEvent e;
        e.type = domain::kClosureAnnounced;
        e.tenant = "comune-aosta";
        e.actor = R"({"id":"admin1","role":"admin"})";
        e.data = domain::ClosureEventData("helpdesk", "comune-aosta", c).dump();
        REQUIRE(f.logf.log
                    ->Append({domain::CalendarStream("comune-aosta", "helpdesk"),
                              ExpectedVersion::Any(),
                              {e},
                              ""})
                    .ok());
      }
    }
    REQUIRE(live.WaitFor(f.logf.log->LastPosition(), std::chrono::seconds(30)));
    REQUIRE(live.failure().ok());
    live.Stop();
  }
  auto before = Dump(f);
  // Taken in charge an hour after opening in every round, except on the closed Monday (round
  // 10), where no business time passes at all.
  json tp =
      json::parse(f.views->Get("helpdesk_kpis", std::string("comune-aosta") + '\0' + "2026-11")
                      ->value())["take_in_charge"]["seconds"];
  CHECK(std::count(tp.begin(), tp.end(), json(0)) == 1);
  CHECK(std::count(tp.begin(), tp.end(), json(3600)) == 11);
  for (const auto& [name, rows] : before) {
    INFO(name);
    CHECK_FALSE(rows.empty());
  }
  for (const auto& name : f.set->Names()) REQUIRE(f.views->Drop(name).ok());
  for (const auto& name : f.set->Names()) CHECK(f.Rows(name, "").empty());
  f.CatchUp();  // the same projection objects: their caches must not leak into the rebuild
  auto after = Dump(f);
  for (const auto& [name, rows] : before) {
    INFO(name);
    REQUIRE(after[name].size() == rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      CHECK(after[name][i].key == rows[i].key);
      CHECK(after[name][i].value == rows[i].value);
    }
  }
  // And with fresh objects over a fresh store, as `procedo rebuild` does.
  projections::ProjectionSet fresh(f.domain->workflows, *f.calendars);
  auto store = ViewStore::Open(f.logf.dir.sub("views2"), fresh.Names());
  REQUIRE(store.ok());
  ProjectionRunner runner(*f.logf.log, **store, fresh.All());
  REQUIRE(runner.CatchUp().ok());
  for (const auto& [name, rows] : before) {
    auto again = (*store)->Scan(name, "", "", 1'000'000);
    REQUIRE(again.ok());
    INFO(name);
    REQUIRE(again->size() == rows.size());
    for (size_t i = 0; i < rows.size(); ++i) CHECK((*again)[i].value == rows[i].value);
  }
}

TEST_CASE("audit trail: every event by an actor, in log order", "[projections][audit]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  f.MustAt("2026-11-02T09:00:00+01:00", op, "voucher-aosta-1", "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T09:10:00+01:00", A("val1", "validator"), "voucher-aosta-1",
           "validate_application");
  f.MustAt("2026-11-02T09:20:00+01:00", op, "case-aosta-1", "start_case",
           CasePayload("access_to_records", "A1"));
  f.MustAt("2026-11-02T09:30:00+01:00", op, "case-aosta-1", "add_note", {{"text", "Nota"}});
  f.CatchUp();
  auto rows = f.Rows(AuditTrailProjection::kName, AuditTrailProjection::ActorPrefix("op1"));
  REQUIRE(rows.size() == 4);
  std::vector<std::string> types;
  uint64_t last = 0;
  for (const auto& r : rows) {
    json j = json::parse(r.value);
    types.push_back(j["type"]);
    CHECK(j["position"].get<uint64_t>() > last);
    last = j["position"];
    CHECK(j["tenant"] == "comune-aosta");
    CHECK(j["role"] == "operator");
  }
  // The case's number is written by op1's start, in the same batch.
  CHECK(types == std::vector<std::string>{"voucher.entered", "case.started", "number.assigned",
                                          "case.note_added"});
  CHECK(f.Rows(AuditTrailProjection::kName, AuditTrailProjection::ActorPrefix("val1")).size() == 1);
  // "op1" is not a prefix of "op10"'s rows: the separator ends the actor id.
  f.MustAt("2026-11-02T09:40:00+01:00", A("op10", "operator"), "case-aosta-2", "start_case",
           CasePayload("access_to_records", "A2"));
  f.CatchUp();
  CHECK(f.Rows(AuditTrailProjection::kName, AuditTrailProjection::ActorPrefix("op1")).size() == 4);
}

}  // namespace
}  // namespace procedo::testing
