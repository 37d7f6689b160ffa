// sla: the SLA timer at 1,000,000 open clocks. Deadline computations per second against the
// physical floor (plain additions of seconds to a time point, same count, same run); the cost of
// a pause/resume event; resident memory; the delay from a deadline to its breach event; and
// memory and index size after many clocks have closed.
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>

#include "bench/bench_util.h"
#include "bench/cases.h"
#include "domain/calendars.h"
#include "domain/procedures.h"
#include "engine/log_store.h"
#include "engine/projection.h"
#include "projections/sla_clock.h"
#include "projections/sla_timer.h"

namespace procedo::bench {
namespace {

using Clock = std::chrono::steady_clock;
using projections::ClockPhase;
using projections::ClockRow;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

TimePoint Base() { return Must(ParseRfc3339("2026-11-02T08:00:00+01:00")); }

// Appends one event to each stream, all in flight at once so the writer group-commits them.
void AppendWave(LogStore& log, const std::vector<std::pair<std::string, NewEvent>>& wave) {
  std::mutex mu;
  std::condition_variable cv;
  size_t left = wave.size();
  Status failure;
  for (const auto& [stream, event] : wave) {
    log.AppendAsync({stream, ExpectedVersion::Any(), {event}, ""}, [&](Result<AppendResult> r) {
      std::lock_guard lock(mu);
      if (!r.ok()) failure = r.status();
      if (--left == 0) cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  if (!failure.ok()) throw std::runtime_error(failure.ToString());
}

NewEvent Event(const std::string& type, const std::string& data) {
  return NewEvent{type, data, "comune-forli", R"({"id":"b","role":"helpdesk_l1"})", "", "",
                  std::nullopt};
}

const char* kChannels[] = {"portal", "email", "phone"};
const char* kPriorities[] = {"urgent", "high", "normal", "low"};

// `tickets` tickets opened in waves, each wave 7 minutes after the previous one on `clock`:
// every ticket starts two clocks (take in charge, answer).
void OpenTickets(LogStore& log, ManualClock& clock, uint64_t first, uint64_t tickets) {
  const uint64_t wave_size = 5'000;
  for (uint64_t w = 0; w * wave_size < tickets; ++w) {
    clock.Advance(std::chrono::minutes(7));
    std::vector<std::pair<std::string, NewEvent>> wave;
    for (uint64_t i = w * wave_size; i < std::min(tickets, (w + 1) * wave_size); ++i) {
      const uint64_t n = first + i;
      wave.emplace_back(fmt::format("ticket-b-{}", n),
                        Event("ticket.opened", fmt::format(R"({{"channel":"{}","priority":"{}","level":1}})",
                                                           kChannels[n % 3], kPriorities[n % 4])));
    }
    AppendWave(log, wave);
  }
}

std::unique_ptr<LogStore> OpenLog(const std::string& path, bool sync, const ManualClock& clock) {
  LogOptions o;
  o.path = path;
  o.sync = sync;
  o.clock = &clock;
  return Must(LogStore::Open(o));
}

uint64_t CountKeys(ViewStore& views, std::string_view prefix) {
  uint64_t n = 0;
  std::string after;
  for (;;) {
    auto page = Must(views.Scan(projections::kSlaView, prefix, after, 100'000));
    n += page.size();
    if (page.size() < 100'000) return n;
    after = page.back().key;
  }
}

// Records when each sla event becomes visible to a log subscriber.
class ArrivalClock {
 public:
  explicit ArrivalClock(LogStore& log) : sub_(log.Subscribe(log.LastPosition() + 1)) {
    thread_ = std::thread([this] {
      for (;;) {
        auto events = sub_->Next(4096, std::chrono::milliseconds(100));
        if (!events.ok()) return;  // cancelled
        const auto now = Clock::now();
        std::lock_guard lock(mu_);
        for (const auto& e : *events) {
          if (e->type.starts_with("sla.")) seen_.emplace_back(e->position, e->type, now);
          seen_up_to_ = e->position;
        }
        cv_.notify_all();
      }
    });
  }
  ~ArrivalClock() {
    sub_->Cancel();
    thread_.join();
  }
  // The sla events at positions [from, to], once the subscriber has seen `to`.
  std::vector<std::pair<std::string, Clock::time_point>> Since(uint64_t from, uint64_t to) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return seen_up_to_ >= to; });
    std::vector<std::pair<std::string, Clock::time_point>> out;
    for (const auto& [position, type, at] : seen_) {
      if (position >= from && position <= to) out.emplace_back(type, at);
    }
    std::erase_if(seen_, [to](const auto& s) { return std::get<0>(s) <= to; });
    return out;
  }

 private:
  std::unique_ptr<Subscription> sub_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::tuple<uint64_t, std::string, Clock::time_point>> seen_;
  uint64_t seen_up_to_ = 0;
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int SlaCase(const Limits& limits, const std::string& source_dir) {
  const uint64_t open_clocks = std::min<uint64_t>(limits.max_events, 1'000'000);
  auto domain = Must(domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas"));
  auto calendars = Must(domain::CalendarCatalog::LoadDomain(source_dir + "/domain"));

  // 1. Deadline computations: a clock's warning instant and deadline from its target, as the
  // projection computes them, over random starts and every target the workflows declare.
  {
    auto cal = Must(calendars.Build("helpdesk", "comune-forli"));
    const char* targets[] = {"30m", "45m", "90m", "6h", "8h", "1bd", "3bd", "5bd", "7bd"};
    std::mt19937_64 rng(42);
    std::vector<ClockRow> rows(open_clocks);
    const int64_t base = Base().time_since_epoch().count();
    for (auto& r : rows) {
      r.phase = ClockPhase::kRunning;
      r.target = targets[rng() % 9];
      r.started_at = r.run_from = base + static_cast<int64_t>(rng() % (400LL * 86'400'000'000LL));
    }
    auto t0 = Clock::now();
    for (auto& r : rows) {
      if (!projections::ComputeDeadline(r, cal, 0.8).ok()) throw std::runtime_error("deadline");
    }
    const double value = static_cast<double>(rows.size()) / Seconds(t0);
    // The floor: the same count of plain additions of seconds to a time point.
    int64_t sink = 0;
    t0 = Clock::now();
    for (size_t i = 0; i < rows.size(); ++i) {
      TimePoint t = TimePoint(Micros(rows[i].started_at)) + std::chrono::seconds(rows[i].budget / 1'000'000 + 1);
      sink += t.time_since_epoch().count();
      asm volatile("" : : "r"(sink) : "memory");
    }
    const double baseline = limits.skip_baseline ? 0 : static_cast<double>(rows.size()) / Seconds(t0);
    fmt::print("sla: {} deadline computations (warning + deadline, helpdesk calendar, targets 30m..7bd)\n",
               rows.size());

    // 2..5 below run on the real projection and timer; the RESULT line comes last.
    ScratchDir dir("sla");
    ManualClock clock(Base());
    projections::ManualWaiter waiter(clock);
    auto log = OpenLog(dir.path() + "/log", false, clock);
    auto views = Must(ViewStore::Open(dir.path() + "/views", {projections::kSlaView}));
    auto timer = std::make_unique<projections::SlaTimer>(*log, *views, domain->workflows,
                                                         calendars, waiter);
    const uint64_t tickets = open_clocks / 2;
    t0 = Clock::now();
    OpenTickets(*log, clock, 0, tickets);
    const double append_s = Seconds(t0);
    t0 = Clock::now();
    {
      ProjectionRunner runner(*log, *views, {&timer->projection()});
      if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
    }
    const double fold_s = Seconds(t0);
    const long rss_open = RssKb();
    fmt::print("sla: {} open clocks on {} tickets: log append {:.1f} s, projection fold {:.1f} s "
               "({:.0f} events/s, {:.1f} us/event)\n",
               tickets * 2, tickets, append_s, fold_s, tickets / fold_s, fold_s * 1e6 / tickets);
    fmt::print("sla: resident memory with {} open clocks: {} MB (VmRSS)\n", tickets * 2,
               rss_open / 1024);

    // Pause/resume: admin cases suspended and resumed, each event folded by the projection.
    const uint64_t cases = 2'000, rounds = 10;
    {
      std::vector<std::pair<std::string, NewEvent>> wave;
      for (uint64_t i = 0; i < cases; ++i) {
        wave.emplace_back(fmt::format("case-b-{}", i),
                          Event("case.started", R"({"term":"20bd","calendar":"assistance"})"));
      }
      AppendWave(*log, wave);
      ProjectionRunner runner(*log, *views, {&timer->projection()});
      if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
      for (uint64_t r = 0; r < rounds; ++r) {
        for (const char* type : {"case.suspended", "case.resumed"}) {
          clock.Advance(std::chrono::minutes(20));
          for (auto& [stream, e] : wave) e = Event(type, R"({"reason":"bench"})");
          AppendWave(*log, wave);
        }
      }
      t0 = Clock::now();
      if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
      const double secs = Seconds(t0);
      const double n = static_cast<double>(cases * rounds * 2);
      fmt::print("sla: pause/resume: {:.0f} events folded in {:.2f} s: {:.1f} us per event "
                 "(read row, business time elapsed or new deadline, index moves, write)\n",
                 n, secs, secs * 1e6 / n);
    }

    // Breach delay: the reactor on a driven clock, 1,000,000 clocks in the index, a synced log.
    timer.reset();
    log.reset();
    // Back to before the first due instant, so the probes below meet every deadline as it
    // comes instead of a start-up backlog (the log keeps recorded times monotonic regardless).
    clock.Set(Base());
    log = OpenLog(dir.path() + "/log", true, clock);
    timer = std::make_unique<projections::SlaTimer>(*log, *views, domain->workflows, calendars,
                                                    waiter);
    ProjectionRunner runner(*log, *views, {&timer->projection()});
    if (Status s = runner.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
    runner.Start();
    timer->Start(runner);
    if (!timer->WaitSettled(std::chrono::seconds(600))) throw std::runtime_error("not settled");
    // Each probe moves the driven clock to the next due instant and times every sla event from
    // that instant to the moment a log subscriber sees it: the log publishes an event only after
    // its synced write, so that is when the breach is durable (folding it back is not counted).
    std::vector<double> breach_ms, warning_ms;
    size_t biggest_group = 0;
    int breach_instants = 0, probes = 0;
    // Its subscription holds the log open: gone before the log is reopened below.
    auto arrivals = std::make_unique<ArrivalClock>(*log);
    while (breach_instants < 20 && probes < 80) {
      auto first = Must(views->Scan(projections::kSlaView, projections::kDuePrefix, "", 1));
      if (first.empty()) break;
      int64_t due = 0;
      std::string stream, name;
      projections::ParseDueKey(first[0].key, &due, &stream, &name);
      const uint64_t from = log->LastPosition() + 1;
      t0 = Clock::now();
      waiter.Set(TimePoint(Micros(due)));  // the instant it is due, not a microsecond later
      if (!timer->WaitSettled(std::chrono::seconds(60))) throw std::runtime_error("no breach");
      auto seen = arrivals->Since(from, log->LastPosition());
      if (seen.empty()) throw std::runtime_error("nothing appended at a due instant");
      ++probes;
      bool breach = false;
      for (const auto& [type, at] : seen) {
        const double ms = std::chrono::duration<double, std::milli>(at - t0).count();
        (type == projections::kSlaBreached ? breach_ms : warning_ms).push_back(ms);
        breach |= type == projections::kSlaBreached;
      }
      breach_instants += breach;
      biggest_group = std::max(biggest_group, seen.size());
    }
    arrivals.reset();
    const double worst = breach_ms.empty() ? 1e9 : Quantile(breach_ms, 1.0) / 1e3;
    fmt::print("sla: deadline -> sla.breached durable in the synced log, {} open clocks, {} due "
               "instants ({} with breaches, up to {} events each): {} breaches, median {:.1f} ms, "
               "worst {:.1f} ms; {} warnings, median {:.1f} ms, worst {:.1f} ms\n",
               CountKeys(*views, projections::kDuePrefix), probes, breach_instants, biggest_group,
               breach_ms.size(), Quantile(breach_ms, 0.5), Quantile(breach_ms, 1.0),
               warning_ms.size(), Quantile(warning_ms, 0.5), Quantile(warning_ms, 1.0));
    timer->Stop();
    runner.Stop();

    // Closed clocks leave the indexes: open and close many more tickets, then compare.
    const uint64_t churn = std::min<uint64_t>(tickets, 200'000);
    const uint64_t due_before = CountKeys(*views, projections::kDuePrefix);
    const long rss_before = RssKb();
    timer.reset();
    log.reset();
    log = OpenLog(dir.path() + "/log", false, clock);
    timer = std::make_unique<projections::SlaTimer>(*log, *views, domain->workflows, calendars,
                                                    waiter);
    // Two rounds: a bounded cache and memtables plateau, a leak would keep growing.
    std::vector<long> rss{rss_before};
    for (uint64_t round = 0; round < 2; ++round) {
      const uint64_t first = tickets + round * churn;
      OpenTickets(*log, clock, first, churn);
      for (const char* type : {"ticket.taken_in_charge", "ticket.resolved"}) {
        std::vector<std::pair<std::string, NewEvent>> wave;
        for (uint64_t i = first; i < first + churn; ++i) {
          wave.emplace_back(fmt::format("ticket-b-{}", i), Event(type, "{}"));
          if (wave.size() == 5'000) AppendWave(*log, std::exchange(wave, {}));
        }
        AppendWave(*log, wave);
      }
      ProjectionRunner again(*log, *views, {&timer->projection()});
      if (Status s = again.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
      rss.push_back(RssKb());
    }
    fmt::print("sla: 2 x {} more clocks opened and closed: deadline index {} -> {} entries, "
               "calendar index {} entries, VmRSS {} -> {} -> {} MB\n",
               churn * 3, due_before, CountKeys(*views, projections::kDuePrefix),
               CountKeys(*views, projections::kCalendarPrefix), rss[0] / 1024, rss[1] / 1024,
               rss[2] / 1024);
    fmt::print("sla: goal breach delay < 1 s at {} open clocks: {}\n", tickets * 2,
               worst < 1.0 ? "met" : "NOT met");
    PrintResult("sla", value, baseline);
    (void)sink;
  }
  return 0;
}

}  // namespace procedo::bench
