// The SLA timer through real workflow commands, on a driven clock.
#include <nlohmann/json.hpp>

#include "domain/sample_payloads.h"
#include "projections/sla_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const Actor kCitizen = A("cit1", "citizen");
const Actor kL1 = A("hd1", "helpdesk_l1");
const Actor kOperator = A("op1", "operator");

json Ticket(const std::string& channel, const std::string& priority) {
  return {{"channel", channel}, {"priority", priority}, {"subject", "Allegati"}};
}

json DataOf(const Event& e) {
  return json::parse(e.data);
}

TEST_CASE("sla timer: a breach fires at the first instant after the deadline, once") {
  SlaFixture f;  // Thursday 26 Nov 2026, 10:00
  const std::string s = "ticket-comune-aosta-1";
  f.Must(kCitizen, s, "open_ticket", Ticket("portal", "high"));
  // Two clocks at once: take in charge (30 business minutes, portal) and the answer (3bd).
  ClockRow tp = f.Clock(s, "take_in_charge");
  CHECK(tp.phase == ClockPhase::kRunning);
  CHECK(tp.target == "30m");
  CHECK(f.Local(tp.deadline) == "2026-11-26T10:30:00+01:00");
  CHECK(f.Local(tp.warning_at) == "2026-11-26T10:24:00+01:00");  // 80% of 30 minutes
  ClockRow answer = f.Clock(s, "answer");
  CHECK(answer.target == "3bd");
  CHECK(f.Local(answer.deadline) == "2026-12-01T17:00:00+01:00");
  CHECK(f.Clock(s, "resolution").phase == ClockPhase::kIdle);

  f.At("2026-11-26T10:23:59.999999+01:00");
  CHECK(f.Sla(s).empty());
  f.At("2026-11-26T10:24:00+01:00");
  auto warnings = f.Sla(s, "sla.warning");
  REQUIRE(warnings.size() == 1);
  CHECK(DataOf(warnings[0])["clock"] == "take_in_charge");
  CHECK(DataOf(warnings[0])["elapsed_seconds"] == 24 * 60);
  CHECK(warnings[0].actor == R"({"system":"sla-timer"})");

  f.At("2026-11-26T10:30:00+01:00");  // the deadline itself is still on time
  CHECK(f.Sla(s, "sla.breached").empty());
  f.At("2026-11-26T10:30:00.000001+01:00");
  auto breaches = f.Sla(s, "sla.breached");
  REQUIRE(breaches.size() == 1);
  json d = DataOf(breaches[0]);
  CHECK(d["clock"] == "take_in_charge");
  CHECK(d["target"] == "30m");
  CHECK(d["deadline"] == "2026-11-26T10:30:00+01:00");
  CHECK(d["started_at"] == "2026-11-26T10:00:00+01:00");
  CHECK(d["elapsed_seconds"] == 1800);
  CHECK(d["calendar"] == "helpdesk");
  CHECK(f.Clock(s, "take_in_charge").breached);

  f.At("2026-11-26T16:00:00+01:00");
  CHECK(f.Sla(s, "sla.breached").size() == 1);
  CHECK(f.Sla(s, "sla.warning").size() == 1);
  // Taking it in charge stops the first clock late; the breach stays, nothing more fires.
  f.Must(kL1, s, "take_in_charge", SamplePayload("take_in_charge"));
  CHECK(f.Clock(s, "take_in_charge").phase == ClockPhase::kStopped);
  CHECK(f.Clock(s, "resolution").phase == ClockPhase::kRunning);
  CHECK(f.Sla(s).size() == 2);
  CHECK(f.timer->appended() == 2);
}

TEST_CASE("sla timer: escalation to level 2 recomputes 6h into 8h and keeps the elapsed time") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-2";
  f.Must(kCitizen, s, "open_ticket", Ticket("email", "normal"));
  auto taken = f.Must(kL1, s, "take_in_charge", SamplePayload("take_in_charge"));  // Thu 10:00
  ClockRow r = f.Clock(s, "resolution");
  CHECK(r.target == "6h");
  CHECK(f.Local(r.deadline) == "2026-11-26T17:00:00+01:00");  // 10-13 and 14-17

  f.At("2026-11-26T12:00:00+01:00");  // 2 business hours used
  f.Must(kL1, s, "escalate_ticket", SamplePayload("escalate_ticket"));
  r = f.Clock(s, "resolution");
  CHECK(r.target == "8h");
  CHECK(r.start_position == taken.append.first_position);  // the same run, not a restart
  CHECK(r.elapsed_before == 0);
  // 6 hours left from 12:00: 12-13, 14-17, then Friday 08-10.
  CHECK(f.Local(r.deadline) == "2026-11-27T10:00:00+01:00");
  CHECK(f.Local(r.warning_at) == "2026-11-27T08:24:00+01:00");  // 80% of 8h = 6h24m

  f.At("2026-11-26T17:00:00.000001+01:00");  // the level-1 deadline is gone
  CHECK(f.Sla(s, "sla.breached").empty());
  f.At("2026-11-27T10:00:00.000001+01:00");
  auto b = f.Sla(s, "sla.breached");
  REQUIRE(b.size() == 1);
  CHECK(DataOf(b[0])["target"] == "8h");
  CHECK(DataOf(b[0])["deadline"] == "2026-11-27T10:00:00+01:00");
  CHECK(DataOf(b[0])["elapsed_seconds"] == 8 * 3600);
  CHECK(f.Sla(s, "sla.warning").size() == 1);
}

TEST_CASE("sla timer: a case term paused over a weekend does not count it") {
  SlaFixture f;  // Thursday 26 Nov 2026 10:00
  const std::string s = "case-comune-aosta-7";
  json p = SamplePayload("start_case");
  p["procedure_id"] = "road_occupation";  // 20 business days, assistance Mon-Fri 07:30-18:00
  f.Must(kOperator, s, "start_case", p);
  ClockRow c = f.Clock(s, "term");
  CHECK(c.target == "20bd");
  CHECK(c.calendar == "assistance");
  CHECK(f.Local(c.deadline) == "2026-12-28T18:00:00+01:00");

  f.At("2026-11-27T17:00:00+01:00");  // Friday
  f.Must(kOperator, s, "suspend_case", SamplePayload("suspend_case"));
  c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kPaused);
  CHECK(c.deadline == 0);
  CHECK(c.elapsed_before ==
        std::chrono::duration_cast<Micros>(std::chrono::minutes(8 * 60 + 9 * 60 + 30))
            .count());                // Thu 10-18, Fri 07:30-17
  f.At("2026-11-30T09:00:00+01:00");  // Monday
  f.Must(kOperator, s, "resume_case", SamplePayload("resume_case"));
  c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kRunning);
  // Friday 17-18 and Monday 07:30-09 were not counted: 2.5 business hours later.
  CHECK(f.Local(c.deadline) == "2026-12-29T10:00:00+01:00");
  f.At("2026-12-29T10:00:00.000001+01:00");
  auto b = f.Sla(s, "sla.breached");
  REQUIRE(b.size() == 1);
  CHECK(DataOf(b[0])["deadline"] == "2026-12-29T10:00:00+01:00");
}

TEST_CASE(
    "sla timer: killed between the deadline and the breach, exactly one breach with its "
    "true deadline") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-3";
  f.Must(kCitizen, s, "open_ticket", Ticket("phone", "urgent"));  // TP 90m -> 11:30
  f.Close();
  f.waiter.Set(T("2026-11-26T15:00:00+01:00"));  // the process is down past both instants
  f.wf.Restart();
  f.Open();
  f.Settle();
  auto b = f.Sla(s, "sla.breached");
  REQUIRE(b.size() == 1);
  CHECK(DataOf(b[0])["deadline"] == "2026-11-26T11:30:00+01:00");  // the true deadline
  CHECK(b[0].time == T("2026-11-26T15:00:00+01:00"));              // when it was appended
  CHECK(f.Sla(s, "sla.warning").size() == 1);

  f.Restart();
  f.Settle();
  CHECK(f.Sla(s, "sla.breached").size() == 1);
  CHECK(f.timer->appended() == 0);
}

TEST_CASE("sla timer: a crash after the append and before the fold is answered from the log") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-4";
  f.Must(kCitizen, s, "open_ticket", Ticket("portal", "low"));
  f.Close();
  // Keep the views as they were before the breach, then let the breach happen.
  const std::string before = f.wf.logf.dir.sub("views-before");
  std::filesystem::copy(f.views_dir, before, std::filesystem::copy_options::recursive);
  f.Open();
  f.At("2026-11-26T11:00:00+01:00");
  REQUIRE(f.Sla(s, "sla.breached").size() == 1);
  f.Close();
  // Back to views that never saw it; the reactor starts before the runner has caught up.
  std::filesystem::remove_all(f.views_dir);
  std::filesystem::rename(before, f.views_dir);
  f.wf.Restart();
  f.Open(/*catch_up=*/false);
  f.Settle();
  CHECK(f.Sla(s, "sla.breached").size() == 1);
  CHECK(f.Sla(s, "sla.warning").size() == 1);
  CHECK(f.Clock(s, "take_in_charge").breached);
}

TEST_CASE(
    "sla timer: a clock stopped before its deadline but not yet folded when the deadline "
    "passes gets no breach") {
  SlaFixture f;  // Thursday 26 Nov 2026 10:00
  const std::string s = "ticket-comune-aosta-11";
  f.Must(kCitizen, s, "open_ticket", Ticket("portal", "low"));  // take in charge: 30m
  f.At("2026-11-26T10:25:00+01:00");
  REQUIRE(f.Sla(s, "sla.warning").size() == 1);  // at 10:24; the breach is all that is left
  // Taken in charge at 10:29, in time, while the projection is not running; the reactor then
  // wakes past the deadline before the runner has folded the stop.
  f.Close();
  f.waiter.Set(T("2026-11-26T10:29:00+01:00"));
  f.wf.Restart();
  auto taken = f.wf.Run(kL1, s, "take_in_charge", SamplePayload("take_in_charge"));
  REQUIRE(taken.ok());
  REQUIRE(taken->accepted());
  f.waiter.Set(T("2026-11-26T10:31:00+01:00"));
  f.Open(/*catch_up=*/false, /*runner_first=*/false);
  f.Settle();
  CHECK(f.Sla(s, "sla.breached").empty());
  CHECK(f.Clock(s, "take_in_charge").phase == ClockPhase::kStopped);
}

TEST_CASE(
    "sla timer: a closure announced mid-flight moves the deadline, its cancellation "
    "moves it back") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-5";
  f.Must(kCitizen, s, "open_ticket", Ticket("portal", "high"));  // answer: 3bd on support
  CHECK(f.Local(f.Clock(s, "answer").deadline) == "2026-12-01T17:00:00+01:00");
  procedo::Closure closure{"ferie-1", std::chrono::year{2026} / 12 / 1,
                           std::chrono::year{2026} / 12 / 2, "Chiusura straordinaria"};
  auto cal = f.calendars.Build("support", "comune-aosta");
  REQUIRE(cal.ok());
  REQUIRE(domain::CheckClosure(*cal, {}, closure, f.wf.logf.clock.Now()).ok());
  f.Closure(domain::kClosureAnnounced, "support", "comune-aosta", closure);
  // Fri 27, Mon 30, then Thu 3 Dec: the closed days do not count.
  CHECK(f.Local(f.Clock(s, "answer").deadline) == "2026-12-03T17:00:00+01:00");
  // Another tenant's closure and another calendar's leave this clock alone.
  f.Closure(domain::kClosureAnnounced, "support", "comune-forli", closure);
  f.Closure(domain::kClosureAnnounced, "helpdesk", "comune-aosta", closure);
  CHECK(f.Local(f.Clock(s, "answer").deadline) == "2026-12-03T17:00:00+01:00");
  f.At("2026-12-01T17:00:00.000001+01:00");
  CHECK(f.Sla(s, "sla.breached", "answer").empty());

  f.Closure(domain::kClosureCancelled, "support", "comune-aosta", closure);
  CHECK(f.Local(f.Clock(s, "answer").deadline) == "2026-12-01T17:00:00+01:00");
  // Cancelled after the old deadline passed: the breach is appended with that deadline.
  auto b = f.Sla(s, "sla.breached", "answer");
  REQUIRE(b.size() == 1);
  CHECK(DataOf(b[0])["deadline"] == "2026-12-01T17:00:00+01:00");
}

TEST_CASE(
    "sla timer: a burst of clocks sharing a deadline, over several passes and scan pages, "
    "gets one event each") {
  SlaFixture f;  // Thursday 26 Nov 2026, 10:00
  f.Close();
  // 300 entries due at once: a pass of 280 over two 256-key pages, then one of 20.
  f.options.batch = 280;
  f.Open();
  const int tickets = 300;
  for (int i = 0; i < tickets; ++i) {
    auto r = f.wf.Run(kCitizen, "ticket-comune-aosta-b" + std::to_string(i), "open_ticket",
                      Ticket("portal", "urgent"));
    REQUIRE(r.ok());
    REQUIRE(r->accepted());
  }
  f.Settle();
  // Take in charge: 30 business minutes, warning at 80%. The answer (1bd) is due on Friday.
  f.At("2026-11-26T10:24:00+01:00");
  CHECK(f.timer->appended() == tickets);
  f.At("2026-11-26T10:30:00.000001+01:00");
  CHECK(f.timer->appended() == 2 * tickets);
  CHECK(f.timer->deduplicated() == 0);
  for (int i : {0, 150, 299}) {
    const std::string s = "ticket-comune-aosta-b" + std::to_string(i);
    CHECK(f.Sla(s, "sla.warning", "take_in_charge").size() == 1);
    CHECK(f.Sla(s, "sla.breached", "take_in_charge").size() == 1);
  }
  // Everything fired has left the index; what is left is due later.
  auto rows = f.views->Scan(projections::kSlaView, projections::kDuePrefix, "", 1);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  int64_t due = 0;
  std::string stream, clock;
  REQUIRE(projections::ParseDueKey((*rows)[0].key, &due, &stream, &clock));
  CHECK(due > T("2026-11-26T10:30:00.000001+01:00").time_since_epoch().count());
}

TEST_CASE(
    "sla timer: a deadline entry of the older format (the kind byte alone) still fires "
    "with the clock's data") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-8";
  f.Must(kCitizen, s, "open_ticket", Ticket("email", "normal"));  // take in charge 45m
  ClockRow tp = f.Clock(s, "take_in_charge");
  const std::string key = projections::DueKey(tp.due, s, "take_in_charge");
  auto value = f.views->Get(projections::kSlaView, key);
  REQUIRE(value.ok());
  REQUIRE(value->has_value());
  CHECK((*value)->size() > 1);  // this build writes the event's data into the entry
  auto batch = f.views->NewBatch();
  batch->For(projections::kSlaView).Put(key, std::string(1, 'w'));
  REQUIRE(f.views->Commit(*batch).ok());

  f.At("2026-11-26T10:36:00+01:00");  // 80% of 45 minutes
  auto w = f.Sla(s, "sla.warning", "take_in_charge");
  REQUIRE(w.size() == 1);
  CHECK(DataOf(w[0])["elapsed_seconds"] == 36 * 60);
  CHECK(DataOf(w[0])["warning_at"] == "2026-11-26T10:36:00+01:00");
  CHECK(DataOf(w[0])["target"] == "45m");
  f.At("2026-11-26T10:45:00.000001+01:00");
  CHECK(f.Sla(s, "sla.breached", "take_in_charge").size() == 1);
  CHECK(f.timer->deduplicated() == 0);
}

TEST_CASE("sla timer: a closure announced while a clock is paused counts when it resumes") {
  SlaFixture f;  // Thursday 26 Nov 2026 10:00
  const std::string s = "case-comune-aosta-10";
  json p = SamplePayload("start_case");
  p["procedure_id"] = "road_occupation";  // 20 business days, assistance Mon-Fri 07:30-18:00
  f.Must(kOperator, s, "start_case", p);
  f.At("2026-11-27T17:00:00+01:00");  // Friday: 17.5 business hours counted
  f.Must(kOperator, s, "suspend_case", SamplePayload("suspend_case"));
  // Mon 14 and Tue 15 Dec closed, announced through the seed 004 check while the term is paused.
  auto announced = f.wf.handler->Handle(
      domain::AnnounceClosureCommand(
          "assistance", "comune-aosta",
          {"ponte", std::chrono::year{2026} / 12 / 14, std::chrono::year{2026} / 12 / 15, "Ponte"}),
      Actor{"resp1", "admin", "comune-aosta"});
  REQUIRE(announced.ok());
  REQUIRE(announced->accepted());
  f.Settle();
  CHECK(f.Clock(s, "term").deadline == 0);
  f.At("2026-11-30T09:00:00+01:00");
  f.Must(kOperator, s, "resume_case", SamplePayload("resume_case"));
  // Without the closure: 29 Dec 10:00 (the weekend-pause test). The two closed days push the
  // remaining 200.5 business hours 21 hours further: 29 Dec 10-18, 30 Dec, 31 Dec 07:30-10:00.
  CHECK(f.Local(f.Clock(s, "term").deadline) == "2026-12-31T10:00:00+01:00");
}

TEST_CASE("sla timer: replaying the log from 0 rebuilds the same rows byte for byte") {
  SlaFixture f;
  const std::string s = "ticket-comune-aosta-6";
  f.Must(kCitizen, s, "open_ticket", Ticket("portal", "urgent"));
  f.At("2026-11-26T11:00:00+01:00");
  f.Must(kL1, s, "take_in_charge", SamplePayload("take_in_charge"));
  f.Closure(domain::kClosureAnnounced, "helpdesk", "comune-aosta",
            {"natale", std::chrono::year{2026} / 12 / 28, std::chrono::year{2026} / 12 / 30,
             "Ferie natalizie"});
  f.Must(kL1, s, "escalate_ticket", SamplePayload("escalate_ticket"));
  json p = SamplePayload("start_case");
  f.Must(kOperator, "case-comune-aosta-9", "start_case", p);
  f.Must(kOperator, "case-comune-aosta-9", "suspend_case", SamplePayload("suspend_case"));
  f.At("2026-11-30T12:00:00+01:00");
  f.Must(A("tec-verdi", "helpdesk_l2"), s, "resolve_ticket", SamplePayload("resolve_ticket"));
  f.Must(kCitizen, s, "reopen_ticket", SamplePayload("reopen_ticket"));
  f.At("2026-12-15T12:00:00+01:00");
  REQUIRE(f.Sla(s).size() >= 4);
  const auto live = f.Rows();

  // Drop and catch up again over the same store, with the timer stopped.
  f.timer->Stop();
  f.runner->Stop();
  REQUIRE(f.views->Drop(projections::kSlaView).ok());
  CHECK(f.Rows().empty());
  {
    ProjectionRunner again(*f.wf.logf.log, *f.views, {&f.timer->projection()});
    REQUIRE(again.CatchUp().ok());
  }
  CHECK(f.Rows() == live);
  // And into a brand-new store with a brand-new projection.
  f.Close();
  std::filesystem::remove_all(f.views_dir);
  f.Open();
  f.Settle();
  CHECK(f.Rows() == live);
  CHECK(f.timer->appended() == 0);
}

TEST_CASE("sla timer: the states of the next instant's clocks are read before it comes due") {
  SlaFixture f;  // Thursday 26 Nov 2026, 10:00
  const std::string a = "ticket-comune-aosta-1", b = "ticket-comune-aosta-2";
  f.Must(kCitizen, a, "open_ticket", Ticket("portal", "high"));
  f.Must(kCitizen, b, "open_ticket", Ticket("portal", "high"));
  f.Restart();  // every cache empty, as after a start
  f.Settle();
  // Both warnings are due at 10:24. While the timer waited for it, it read their states: the
  // commands at the instant decide from memory, none of them reads the log.
  const uint64_t misses = f.wf.handler->cache().misses();
  CHECK(misses >= 2);
  f.At("2026-11-26T10:24:00+01:00");
  REQUIRE(f.Sla(a, "sla.warning").size() == 1);
  REQUIRE(f.Sla(b, "sla.warning").size() == 1);
  CHECK(f.wf.handler->cache().misses() == misses);
  CHECK(f.timer->appended() == 2);
}

}  // namespace
}  // namespace procedo::testing
