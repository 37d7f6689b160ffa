// A real log, the real domain (workflows, calendars, schemas), a command handler, a view store,
// the projection runner and the SLA timer on a ManualWaiter: tests move the clock and wait for
// the timer to settle, never sleep.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "domain/calendars.h"
#include "domain/closures.h"
#include "domain/workflow_fixture.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "projections/reactors/sla_timer.h"

namespace procedo::testing {

using ::procedo::ClockPhase;
using ::procedo::ClockRow;
using ::procedo::StreamClocks;

inline TimePoint T(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  if (!t.ok()) throw std::runtime_error(t.status().ToString());
  return *t;
}

struct SlaFixture {
  WorkflowFixture wf;
  domain::CalendarCatalog calendars;
  projections::ManualWaiter waiter{wf.logf.clock};
  std::string views_dir = wf.logf.dir.sub("views");
  std::unique_ptr<ViewStore> views;
  std::unique_ptr<projections::SlaTimer> timer;
  std::unique_ptr<ProjectionRunner> runner;
  projections::SlaTimerOptions options;  // taken by the next Open()

  explicit SlaFixture(const std::string& start = "2026-11-26T10:00:00+01:00",
                      const std::string& schemas = SourceDir() + "/schemas")
      : wf(SourceDir() + "/domain", 64, schemas) {
    auto c = domain::CalendarCatalog::LoadDomain(wf.domain_dir);
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    calendars = std::move(c).value();
    waiter.Set(T(start));
    Open();
  }
  ~SlaFixture() { Close(); }

  // What `procedo serve` does at start-up: catch up, then run the runner and the reactor.
  // Without the catch-up, and with the reactor started first, the reactor meets views that are
  // behind the log.
  void Open(bool catch_up = true, bool runner_first = true) {
    auto v = ViewStore::Open(views_dir, {projections::kSlaView});
    if (!v.ok()) throw std::runtime_error(v.status().ToString());
    views = std::move(v).value();
    timer = std::make_unique<projections::SlaTimer>(*wf.handler, *views, calendars, waiter,
                                                    options);
    runner = std::make_unique<ProjectionRunner>(*wf.logf.log, *views,
                                                std::vector<Projection*>{&timer->projection()});
    if (catch_up) REQUIRE(runner->CatchUp().ok());
    if (runner_first) REQUIRE(runner->Start().ok());
    REQUIRE(timer->Start(*runner).ok());
    if (!runner_first) REQUIRE(runner->Start().ok());
  }
  // A kill as far as the timer can tell: every in-memory object goes, the stores are reopened.
  void Close() {
    if (timer) timer->Stop();
    if (runner) runner->Stop();
    timer.reset();
    runner.reset();
    views.reset();
  }
  void Restart() {
    Close();
    wf.Restart();
    Open();
  }
  void Settle() {
    REQUIRE(timer->WaitSettled(std::chrono::seconds(20)));
    REQUIRE(timer->failure().ok());
  }
  void At(const std::string& rfc3339) {
    waiter.Set(T(rfc3339));
    Settle();
  }
  CommandOutcome Must(const Actor& who, const std::string& stream, const std::string& command,
                      nlohmann::json payload = nlohmann::json::object()) {
    // The timer's events move the stream's version under the handler's cached state; a
    // conflict is answered as any client does: decide again on fresh state.
    auto first = wf.Run(who, stream, command, payload);
    if (!first.ok() && first.status().IsConflict()) first = wf.Run(who, stream, command, payload);
    INFO(command << " on " << stream << ": "
                 << (first.ok() ? (first->accepted() ? "" : first->rejection->message)
                                : first.status().ToString()));
    REQUIRE(first.ok());
    REQUIRE(first->accepted());
    Settle();
    return std::move(first).value();
  }
  // The timer's events on a stream, of one type and one clock when given.
  std::vector<Event> Sla(const std::string& stream, const std::string& type = "",
                         const std::string& clock = "") {
    auto events = wf.logf.log->ReadStream(stream, 1, Direction::kForward, 100'000);
    REQUIRE(events.ok());
    std::vector<Event> out;
    for (auto& e : *events) {
      if (!e.type.starts_with("sla.") || (!type.empty() && e.type != type)) continue;
      if (!clock.empty() && nlohmann::json::parse(e.data).value("clock", "") != clock) continue;
      out.push_back(e);
    }
    return out;
  }
  StreamClocks Row(const std::string& stream) {
    auto v = views->Get(projections::kSlaView, projections::StreamKey(stream));
    REQUIRE(v.ok());
    REQUIRE(v->has_value());
    auto s = StreamClocks::Decode(**v);
    REQUIRE(s.ok());
    return *s;
  }
  ClockRow Clock(const std::string& stream, const std::string& id) {
    StreamClocks s = Row(stream);
    const ClockRow* c = s.Find(id);
    REQUIRE(c != nullptr);
    return *c;
  }
  // Instants as the help desk's zone writes them, for readable expectations.
  std::string Local(int64_t micros) {
    auto cal = calendars.Build("helpdesk", "");
    REQUIRE(cal.ok());
    return cal->FormatLocal(TimePoint(Micros(micros)));
  }
  std::vector<std::pair<std::string, std::string>> Rows() {
    auto rows = views->Scan(projections::kSlaView, "", "", 10'000'000);
    REQUIRE(rows.ok());
    std::vector<std::pair<std::string, std::string>> out;
    for (auto& r : *rows) out.emplace_back(std::move(r.key), std::move(r.value));
    return out;
  }
  // Announces (or cancels) a closure as the calendar service would: checked, then appended.
  void Closure(const std::string& type, const std::string& calendar, const std::string& tenant,
               const procedo::Closure& c) {
    NewEvent e;
    e.type = type;
    e.data = domain::ClosureEventData(calendar, tenant, c).dump();
    e.tenant = tenant;
    e.actor = R"({"id":"resp1","role":"admin"})";
    auto r = wf.logf.log->Append(
        {domain::CalendarStream(tenant, calendar), ExpectedVersion::Any(), {e}, ""});
    REQUIRE(r.ok());
    Settle();
  }
};

}  // namespace procedo::testing
