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

// What both cases fold: the log, the rate of its raw replay (every event read and decoded, in
// order, as the runner reads them: the baseline, measured in the same run) and an empty view
// store for every projection.
struct Folding {
  explicit Folding(const std::string& source_dir, const std::string& name) : dir(name) {
    auto loaded = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
    if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
    domain = std::move(*loaded);
    Write();
    const auto start = std::chrono::steady_clock::now();
    uint64_t seen = 0;
    Status replayed = ReadToHead(*log, 1, [&seen](const std::vector<EventPtr>& page) {
      seen += page.size();
      return Status::Ok();
    });
    if (!replayed.ok() || seen != events) {
      throw std::runtime_error("the replay did not read the log");
    }
    baseline = static_cast<double>(events) / Seconds(start);
    set = std::make_unique<procedo::projections::ProjectionSet>(domain->workflows,
                                                                *domain->calendars);
    auto opened = ViewStore::Open(dir.path() + "/views", set->Names());
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    views = std::move(*opened);
  }

  void Write() {
    LogOptions lo;
    lo.path = dir.path() + "/log";
    lo.sync = false;  // building the log is not what is measured
    auto opened = LogStore::Open(lo);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    log = std::move(*opened);
    auto snapshots = NewMemorySnapshotStore();
    CommandHandler handler(*log, domain->workflows, domain->events, snapshots.get());
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
    events = log->LastPosition();
  }

  // Folds `projections` from position 0 in one runner; events per second.
  double Fold(std::vector<Projection*> projections) {
    ProjectionRunner runner(*log, *views, std::move(projections));
    const auto start = std::chrono::steady_clock::now();
    if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
    return static_cast<double>(events) / Seconds(start);
  }

  ScratchDir dir;
  std::unique_ptr<domain::Domain> domain;
  std::unique_ptr<LogStore> log;
  uint64_t events = 0;
  double baseline = 0;
  std::unique_ptr<procedo::projections::ProjectionSet> set;
  std::unique_ptr<ViewStore> views;
};

}  // namespace

int RebuildCase(const Limits& limits, const std::string& source_dir) {
  (void)limits;
  Folding f(source_dir, "rebuild");
  double slowest = 0;
  std::string slowest_name;
  for (Projection* p : f.set->All()) {
    const double rate = f.Fold({p});
    fmt::print("rebuild {:<18} {:>10.0f} events/s\n", p->name(), rate);
    if (slowest_name.empty() || rate < slowest) {
      slowest = rate;
      slowest_name = p->name();
    }
  }
  fmt::print("rebuild: {} events ({} long cases of {} notes), slowest projection {}\n", f.events,
             kLongCases, kNotesPerLongCase, slowest_name);
  PrintResult("rebuild", slowest, f.baseline);
  return 0;
}

// catch-up: every read model's projection in one runner from position 0, as `procedo serve`
// catches its views up with the log before it answers (serve's runner also carries the SLA
// timer's projection), on the same log and against the same replay.
int CatchUpCase(const Limits& limits, const std::string& source_dir) {
  (void)limits;
  Folding f(source_dir, "catchup");
  const double rate = f.Fold(f.set->All());
  fmt::print("catch-up: {} events through {} projections, {:.1f} µs per event\n", f.events,
             f.set->All().size(), 1e6 / rate);
  PrintResult("catch-up", rate, f.baseline);
  return 0;
}

}  // namespace procedo::bench
