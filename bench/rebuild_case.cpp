// rebuild: `procedo rebuild all`'s work on a log with long streams (four cases of 3,000 notes
// among 4,000 short ones), each projection folded from position 0 into an empty view store as the
// command does, against the raw replay of the same log (every event read and decoded) in the same
// run. The value is the slowest projection's rate: the one whose cost per event grows with its
// streams' length is the one that shows.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "bench/bench_util.h"
#include "bench/cases.h"
#include "domain/procedures.h"
#include "engine/log/log_store.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"
#include "projections/views/projections.h"

namespace procedo::bench {
namespace {

constexpr int kLongCases = 4;
constexpr int kNotesPerLongCase = 3000;
constexpr int kShortCases = 4000;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Must(CommandHandler& handler, const std::string& stream, const std::string& name,
          nlohmann::json payload, const Actor& who) {
  auto r = handler.Handle(Command{stream, name, std::move(payload), "", ""}, who);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  if (!r->accepted()) throw std::runtime_error(r->rejection->message);
}

nlohmann::json Start(int k) {
  return {{"procedure_id", "access_to_records"},
          {"case_code", fmt::format("PR-{}", k)},
          {"applicant", {{"name", "Giulia Ferri"}, {"email", "giulia@example.it"}}},
          {"consent", {{"sms", true}, {"email", true}}}};
}

nlohmann::json Note(int i) {
  return {{"text", fmt::format("Nota {}: fascicolo trasmesso all'ufficio tecnico per il parere "
                               "della commissione edilizia",
                               i)}};
}

// The log both cases fold, and the rate of its raw replay (every event read and decoded, in
// order, as the runner reads them): the baseline, measured in the same run.
double BuildLog(const domain::Domain& d, LogStore** out, std::unique_ptr<LogStore>& owner,
                const std::string& dir) {
  LogOptions lo;
  lo.path = dir + "/log";
  lo.sync = false;  // building the log is not what is measured
  auto log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  {
    auto snapshots = NewMemorySnapshotStore();
    CommandHandler handler(**log, d.workflows, d.events, snapshots.get());
    const Actor op{"op1", "operator", "comune-forli"};
    for (int k = 0; k < kLongCases; ++k) {
      const std::string s = fmt::format("case-comune-forli-long-{}", k);
      Must(handler, s, "start_case", Start(k), op);
    }
    // The long cases' notes interleaved with the short cases, as a busy office writes them.
    for (int i = 0; i < std::max(kNotesPerLongCase, kShortCases); ++i) {
      if (i < kNotesPerLongCase) {
        for (int k = 0; k < kLongCases; ++k) {
          Must(handler, fmt::format("case-comune-forli-long-{}", k), "add_note", Note(i), op);
        }
      }
      if (i < kShortCases) {
        const std::string s = fmt::format("case-comune-forli-{}", i);
        Must(handler, s, "start_case", Start(100 + i), op);
        Must(handler, s, "add_note", Note(i), op);
        Must(handler, s, "suspend_case", {{"reason", "In attesa del parere"}}, op);
      }
    }
  }
  const uint64_t events = (*log)->LastPosition();

  // Baseline: every event read back and decoded, in order, as the runner reads them.
  auto start = std::chrono::steady_clock::now();
  uint64_t seen = 0;
  Status replayed = ReadToHead(**log, 1, [&seen](const std::vector<EventPtr>& page) {
    seen += page.size();
    return Status::Ok();
  });
  if (!replayed.ok() || seen != events) throw std::runtime_error("the replay did not read the log");
  owner = std::move(*log);
  *out = owner.get();
  return static_cast<double>(events) / Seconds(start);
}

}  // namespace

int RebuildCase(const Limits& limits, const std::string& source_dir) {
  (void)limits;
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  const domain::Domain& d = **domain;
  ScratchDir dir("rebuild");
  std::unique_ptr<LogStore> owner;
  LogStore* log = nullptr;
  const double baseline = BuildLog(d, &log, owner, dir.path());
  const uint64_t events = log->LastPosition();

  procedo::projections::ProjectionSet set(d.workflows, *d.calendars);
  auto views = ViewStore::Open(dir.path() + "/views", set.Names());
  if (!views.ok()) throw std::runtime_error(views.status().ToString());
  double slowest = 0;
  std::string slowest_name;
  for (Projection* p : set.All()) {
    ProjectionRunner runner(*log, **views, {p});
    const auto start = std::chrono::steady_clock::now();
    if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
    const double rate = static_cast<double>(events) / Seconds(start);
    fmt::print("rebuild {:<18} {:>10.0f} events/s\n", p->name(), rate);
    if (slowest_name.empty() || rate < slowest) {
      slowest = rate;
      slowest_name = p->name();
    }
  }
  fmt::print("rebuild: {} events ({} long cases of {} notes), slowest projection {}\n", events,
             kLongCases, kNotesPerLongCase, slowest_name);
  PrintResult("rebuild", slowest, baseline);
  return 0;
}

}  // namespace procedo::bench

namespace procedo::bench {

// catch-up: every projection in one runner from position 0, as `procedo serve` catches its views
// up with the log before it answers, on the same log and against the same replay.
int CatchUpCase(const Limits& limits, const std::string& source_dir) {
  (void)limits;
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  const domain::Domain& d = **domain;
  ScratchDir dir("catchup");
  std::unique_ptr<LogStore> owner;
  LogStore* log = nullptr;
  const double baseline = BuildLog(d, &log, owner, dir.path());
  const uint64_t events = log->LastPosition();
  procedo::projections::ProjectionSet set(d.workflows, *d.calendars);
  auto views = ViewStore::Open(dir.path() + "/views", set.Names());
  if (!views.ok()) throw std::runtime_error(views.status().ToString());
  ProjectionRunner runner(*log, **views, set.All());
  const auto start = std::chrono::steady_clock::now();
  if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
  const double rate = static_cast<double>(events) / Seconds(start);
  fmt::print("catch-up: {} events through {} projections, {:.1f} µs per event\n", events,
             set.All().size(), 1e6 / rate);
  PrintResult("catch-up", rate, baseline);
  return 0;
}

}  // namespace procedo::bench
