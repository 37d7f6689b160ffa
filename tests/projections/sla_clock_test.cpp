// The clock state machine on raw logs: events in any order, unknown targets and calendars, the
// row codec. These bypass the command handler on purpose: the log is the fact, whatever it holds.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "domain/calendars.h"
#include "domain/workflow_fixture.h"
#include "engine/log_fixture.h"
#include "engine/views/projection.h"
#include "projections/reactors/sla_timer_projection.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using ::procedo::ClockPhase;
using ::procedo::ClockRow;
using ::procedo::StreamClocks;

TimePoint At(const std::string& text) { return ParseRfc3339(text).value(); }

struct RawFixture {
  LogFixture logf;
  std::unique_ptr<domain::Domain> domain = MustLoadDomain(SourceDir() + "/domain");
  domain::CalendarCatalog calendars =
      domain::CalendarCatalog::LoadDomain(SourceDir() + "/domain").value();
  std::unique_ptr<ViewStore> views = ViewStore::Open(logf.dir.sub("views"), {"sla_timer"}).value();
  projections::SlaProjection projection{domain->workflows, calendars, *views};

  void Append(const std::string& stream, const std::string& type, json data,
              const std::string& when) {
    logf.clock.Set(At(when));
    NewEvent e = Ev(type, data.dump());
    e.tenant = "comune-aosta";
    REQUIRE(logf.log->Append(Req(stream, ExpectedVersion::Any(), {e})).ok());
  }
  ClockRow Clock(const std::string& stream, const std::string& id) {
    ProjectionRunner runner(*logf.log, *views, {&projection});
    REQUIRE(runner.CatchUp().ok());
    auto v = views->Get("sla_timer", projections::StreamKey(stream));
    REQUIRE(v.ok());
    REQUIRE(v->has_value());
    auto s = StreamClocks::Decode(**v);
    REQUIRE(s.ok());
    REQUIRE(s->Find(id) != nullptr);
    return *s->Find(id);
  }
};

const json kCase = {{"term", "10cd"}, {"calendar", "always"}};

TEST_CASE("sla clock: events out of order never crash and never make time negative") {
  RawFixture f;
  const std::string s = "case-comune-aosta-1";
  // Resume and suspend before any start: the clock stays idle.
  f.Append(s, "case.resumed", {{"reason", "x"}}, "2026-11-02T09:00:00+01:00");
  f.Append(s, "case.suspended", {{"reason", "x"}}, "2026-11-02T09:30:00+01:00");
  CHECK(f.Clock(s, "term").phase == ClockPhase::kIdle);

  f.Append(s, "case.started", kCase, "2026-11-02T10:00:00+01:00");  // Monday
  ClockRow c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kRunning);
  // 10 calendar days after Monday 2 Nov: Thursday 12 Nov, the whole day.
  CHECK(c.deadline == At("2026-11-12T23:59:59.999999+01:00").time_since_epoch().count());
  const int64_t first_deadline = c.deadline;

  f.Append(s, "case.resumed", {{"reason", "x"}}, "2026-11-02T11:00:00+01:00");  // running
  CHECK(f.Clock(s, "term").deadline == first_deadline);
  f.Append(s, "case.started", kCase, "2026-11-02T11:30:00+01:00");  // a second start
  CHECK(f.Clock(s, "term").started_at == At("2026-11-02T10:00:00+01:00").time_since_epoch().count());

  f.Append(s, "case.suspended", {{"reason", "x"}}, "2026-11-02T12:00:00+01:00");
  f.Append(s, "case.integration_requested", {{"reason", "y"}}, "2026-11-03T12:00:00+01:00");
  c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kPaused);
  CHECK(c.elapsed_before == std::chrono::duration_cast<Micros>(std::chrono::hours(2)).count());

  f.Append(s, "case.resumed", {{"reason", "x"}}, "2026-11-04T12:00:00+01:00");
  c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kRunning);
  // Two days paused: the budget ends two days later (an always-open calendar counts wall time).
  CHECK(c.deadline == first_deadline + std::chrono::duration_cast<Micros>(
                                           std::chrono::hours(48)).count());

  f.Append(s, "case.closed", {{"outcome", "accepted"}, {"reason", "ok"}},
           "2026-11-05T12:00:00+01:00");
  f.Append(s, "case.resumed", {{"reason", "x"}}, "2026-11-06T12:00:00+01:00");
  f.Append(s, "case.suspended", {{"reason", "x"}}, "2026-11-07T12:00:00+01:00");
  f.Append(s, "case.closed", {{"outcome", "accepted"}, {"reason", "ok"}},
           "2026-11-08T12:00:00+01:00");
  c = f.Clock(s, "term");
  CHECK(c.phase == ClockPhase::kStopped);
  CHECK(c.due == 0);
  CHECK(c.elapsed_before == std::chrono::duration_cast<Micros>(std::chrono::hours(2 + 24)).count());
  // Nothing left in the deadline or calendar index.
  CHECK(f.views->Scan("sla_timer", projections::kDuePrefix, "", 10)->empty());
  CHECK(f.views->Scan("sla_timer", projections::kCalendarPrefix, "", 10)->empty());
}

TEST_CASE("sla clock: a resume stamped before its pause counts no negative time") {
  RawFixture f;
  const std::string s = "case-comune-aosta-2";
  f.Append(s, "case.started", kCase, "2026-11-02T10:00:00+01:00");
  f.Append(s, "case.suspended", {{"reason", "x"}}, "2026-11-02T12:00:00+01:00");
  // The log keeps times monotonic; a clock set back must still not produce negative time.
  f.Append(s, "case.resumed", {{"reason", "x"}}, "2026-11-02T08:00:00+01:00");
  ClockRow c = f.Clock(s, "term");
  // The two hours before the pause stay counted, and nothing negative is added to them.
  CHECK(c.elapsed_before == std::chrono::duration_cast<Micros>(std::chrono::hours(2)).count());
  CHECK(c.run_from >= At("2026-11-02T12:00:00+01:00").time_since_epoch().count() - 1);
  CHECK(c.deadline > 0);
}

TEST_CASE("sla clock: a stream naming no target or an unknown calendar gets no deadline, says "
          "why, and recovers when the field arrives") {
  RawFixture f;
  const std::string t = "ticket-comune-aosta-1";
  f.Append(t, "ticket.opened",
           {{"channel", "fax"}, {"priority", "normal"}, {"subject", "x"}, {"level", 1},
            {"opened_by", "c"}, {"opened_at", "x"}},
           "2026-11-26T10:00:00+01:00");
  ClockRow c = f.Clock(t, "take_in_charge");
  CHECK(c.phase == ClockPhase::kRunning);
  CHECK(c.deadline == 0);
  CHECK(c.problem == "no target for channel 'fax'");
  CHECK(f.Clock(t, "answer").target == "5bd");
  // Level 3 is not in the resolution targets either.
  f.Append(t, "ticket.taken_in_charge", {{"technician", "a"}, {"technician_name", "A"}},
           "2026-11-26T10:10:00+01:00");
  f.Append(t, "ticket.escalated", {{"level", 3}, {"reason", "r"}}, "2026-11-26T11:00:00+01:00");
  c = f.Clock(t, "resolution");
  CHECK(c.problem == "no target for level '3'");
  CHECK(c.deadline == 0);
  f.Append(t, "ticket.escalated", {{"level", 2}, {"reason", "r"}}, "2026-11-26T11:30:00+01:00");
  c = f.Clock(t, "resolution");
  CHECK(c.problem.empty());
  CHECK(c.target == "8h");
  CHECK(c.deadline > 0);

  const std::string k = "case-comune-aosta-3";
  f.Append(k, "case.started", {{"term", "10cd"}, {"calendar", "nope"}}, "2026-11-26T12:00:00+01:00");
  c = f.Clock(k, "term");
  CHECK(c.deadline == 0);
  CHECK(c.problem.find("nope") != std::string::npos);
}

TEST_CASE("sla clock: a reopened ticket starts a fresh resolution run") {
  RawFixture f;
  const std::string t = "ticket-comune-aosta-2";
  f.Append(t, "ticket.opened", {{"channel", "portal"}, {"priority", "low"}, {"level", 1}},
           "2026-11-26T10:00:00+01:00");
  f.Append(t, "ticket.taken_in_charge", {{"technician", "a"}}, "2026-11-26T10:05:00+01:00");
  f.Append(t, "ticket.resolved", {{"solution", "s"}}, "2026-11-26T11:05:00+01:00");
  ClockRow first = f.Clock(t, "resolution");
  CHECK(first.phase == ClockPhase::kStopped);
  CHECK(first.elapsed_before == std::chrono::duration_cast<Micros>(std::chrono::hours(1)).count());
  f.Append(t, "ticket.reopened", {{"reopen_reason", "again"}}, "2026-11-27T09:00:00+01:00");
  ClockRow again = f.Clock(t, "resolution");
  CHECK(again.phase == ClockPhase::kRunning);
  CHECK(again.start_position > first.start_position);
  CHECK(again.elapsed_before == 0);
  CHECK(!again.warned);
  CHECK(!again.breached);
}

TEST_CASE("sla clock: rows encode and decode to the same value; garbage is Corruption") {
  StreamClocks s;
  s.workflow = "helpdesk_ticket";
  s.tenant = "comune-aosta";
  s.fields = {{"channel", "portal"}, {"level", "2"}};
  ClockRow c;
  c.id = "resolution";
  c.phase = ClockPhase::kPaused;
  c.calendar = "helpdesk";
  c.target = "8h";
  c.start_position = 42;
  c.started_at = 1'790'000'000'000'000;
  c.run_from = c.started_at + 5;
  c.elapsed_before = 3'600'000'000;
  c.deadline = c.started_at + 7;
  c.budget = 8 * 3'600'000'000LL;
  c.warned = true;
  s.clocks.push_back(c);
  auto back = StreamClocks::Decode(s.Encode());
  REQUIRE(back.ok());
  CHECK(*back == s);
  std::string bytes = s.Encode();
  CHECK(StreamClocks::Decode(bytes.substr(0, bytes.size() - 1)).status().IsCorruption());
  CHECK(StreamClocks::Decode("").status().IsCorruption());
  CHECK(StreamClocks::Decode(bytes + "x").status().IsCorruption());
}

TEST_CASE("sla clock: deadline keys sort by time, so the next deadline is the first key") {
  using projections::DueKey;
  CHECK(DueKey(1'000, "ticket-b", "x") < DueKey(2'000, "ticket-a", "x"));
  CHECK(DueKey(255, "ticket-a", "x") < DueKey(256, "ticket-a", "x"));
  int64_t due = 0;
  std::string stream, clock;
  REQUIRE(projections::ParseDueKey(DueKey(1'790'000'000'000'000, "ticket-1", "answer"), &due,
                                   &stream, &clock));
  CHECK(due == 1'790'000'000'000'000);
  CHECK(stream == "ticket-1");
  CHECK(clock == "answer");
}

}  // namespace
}  // namespace procedo::testing
