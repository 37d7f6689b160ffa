// The SLA timer: the sla_timer projection (sla_timer_projection.h) plus a reactor thread that
// sleeps until the first key of the deadline index comes due, then sends the clocked stream's
// workflow the command record_sla_warning or record_sla_breach (as Zeebe's timers write a
// TRIGGER command): decided and schema-checked like any other command, recorded as sla.warning
// or sla.breached. Exactly once: the idempotency key is derived from the stream, the clock, the
// log position that started the run and the kind, so a second attempt (after a crash before the
// projection folded the first) is answered from the log. A deadline that passed while the
// process was down is recorded at start-up; its data carries the true deadline, and the event's
// own `time` is when it was recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/calendars.h"
#include "engine/base/clock.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/workflow.h"
#include "projections/reactors/sla_timer_projection.h"

namespace procedo::projections {

// How the reactor waits for an instant of its Clock. The seam lets tests drive time: with a
// ManualWaiter the reactor wakes when the test moves the clock, never by sleeping.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual const Clock& clock() const = 0;
  // Returns once clock().Now() >= t, or once Wake() was called after Epoch() returned `seen`
  // (so a wake between reading the epoch and starting to wait is never lost). May return early.
  virtual void WaitUntil(TimePoint t, uint64_t seen) = 0;
  uint64_t Epoch() const;
  void Wake();

 protected:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t epoch_ = 0;  // guarded by mu_
};

// Production: condition_variable::wait_until on the system clock.
class SystemWaiter final : public Waiter {
 public:
  const Clock& clock() const override { return SystemClock::Instance(); }
  void WaitUntil(TimePoint t, uint64_t seen) override;
};

// Tests and benchmarks: time moves when Advance/Set is called, and waiting reactors wake.
class ManualWaiter final : public Waiter {
 public:
  explicit ManualWaiter(ManualClock& clock) : clock_(clock) {}
  const Clock& clock() const override { return clock_; }
  void WaitUntil(TimePoint t, uint64_t seen) override;
  void Advance(Micros d);
  void Set(TimePoint t);

 private:
  ManualClock& clock_;
};

struct SlaTimerOptions {
  // Due entries appended per pass, all in flight at once so the writer group-commits them; the
  // pass then waits once for them to fold back. Covers the largest group of clocks sharing a
  // deadline, so a burst of breaches costs one pass.
  size_t batch = 8192;
  // Bounds each wait for the projection to fold what the reactor appended (a stuck runner is
  // reported, not waited on forever).
  std::chrono::milliseconds fold_wait{10'000};
};

class SlaTimer final : public Consumer {
 public:
  // Everything passed must outlive the timer. Add projection() to the runner's list and open
  // the ViewStore with kSlaView among its column families.
  SlaTimer(CommandHandler& commands, ViewStore& views, const domain::CalendarCatalog& calendars,
           Waiter& waiter, SlaTimerOptions options = {});
  ~SlaTimer() override;
  SlaTimer(const SlaTimer&) = delete;
  SlaTimer& operator=(const SlaTimer&) = delete;

  Projection& projection() { return *projection_; }
  // What the timer and its projection keep in memory, in entries; read while stopped. Bounded by
  // the calendars in use (and the failures seen), never by the number of clocks.
  size_t MemoryEntries() const {
    return projection_->MemoryEntries() + zones_.size() + poisoned_.size();
  }

  // The runner that applies projection(): the reactor waits on it for its own events to fold
  // back before it looks at the index again. Bind before Start.
  void Bind(ProjectionRunner& runner) { runner_ = &runner; }
  std::string name() const override { return "sla_timer"; }
  Status Start() override;
  void Stop() override;
  // Its position is the deadline index's (the runner's); its counters the records it sent.
  ConsumerProgress Progress() const override;
  // Bind and Start, for tests and benchmarks.
  Status Start(ProjectionRunner& runner) {
    Bind(runner);
    return Start();
  }

  // Tests and benchmarks: waits until the runner has applied the whole log and the reactor has
  // finished a pass with nothing due at the clock's current time. False on timeout.
  bool WaitSettled(std::chrono::milliseconds timeout);

  uint64_t appended() const { return appended_.load(); }          // new events, this process
  uint64_t deduplicated() const { return deduplicated_.load(); }  // already in the log
  // The last append or runner problem (ok when none); the reactor keeps serving other clocks.
  Status failure() const;

  // The idempotency key of a clock run's warning or breach.
  static std::string IdempotencyKey(const std::string& stream, const std::string& clock,
                                    uint64_t start_position, DueKind kind);

 private:
  struct Due {
    std::string key;
    int64_t due;
    std::string stream;
    DueEntry entry;
  };
  void Loop();
  void OnDue(int64_t due, uint64_t position);
  // Reads the index from `from` up to `now`: at most options_.batch entries. Sets *next to the
  // first instant after `now` (INT64_MAX: none) and *resume to where the next scan may start.
  Status Scan(int64_t from, int64_t now, std::vector<Due>* due, int64_t* next, int64_t* resume);
  // Appends the events of `due` (group commits) and waits until they fold back. Returns the
  // earliest instant of an entry to try again (INT64_MAX: none).
  int64_t Fire(std::vector<Due>& due);
  // Loads the states of the clocks due at `instant` (at most options_.batch) into the command
  // handler's cache, unless the waiter's epoch moves past `epoch`.
  void Warm(int64_t instant, uint64_t epoch);
  Result<Command> BuildCommand(Due& d);
  const BusinessCalendar* Zone(const std::string& calendar, const std::string& tenant);

  CommandHandler& commands_;
  const LogStore& log_;
  ViewStore& views_;
  const domain::CalendarCatalog& calendars_;
  Waiter& waiter_;
  SlaTimerOptions options_;
  std::unique_ptr<SlaProjection> projection_;
  ProjectionRunner* runner_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  // The reactor's next wake-up (INT64_MAX while it scans) and the position of the latest index
  // insert: the projection wakes the reactor only for an earlier due, and the reactor waits for
  // that position to be committed before it scans.
  std::atomic<int64_t> target_{INT64_MAX};
  std::atomic<uint64_t> last_insert_{0};
  // Where the next scan starts: every entry before it was appended (and is being deleted by the
  // fold) or failed for good. Without it each scan would step over the tombstones of every
  // deadline already fired since RocksDB last compacted them. Inserts lower it (OnDue).
  std::atomic<int64_t> floor_{INT64_MIN};
  std::atomic<uint64_t> appended_{0}, deduplicated_{0};
  // Calendars used only to print instants with their local offset (closures do not matter).
  std::map<std::string, std::unique_ptr<BusinessCalendar>> zones_;
  std::set<std::string> poisoned_;  // due keys whose append failed for good; see failure()
  int64_t warmed_ = INT64_MAX;      // the last instant Warm finished (the reactor's thread)
  mutable std::mutex mu_;
  std::condition_variable settled_cv_;
  bool idle_ = false;        // guarded by mu_
  uint64_t idle_epoch_ = 0;  // guarded by mu_
  Status failure_;           // guarded by mu_
};

}  // namespace procedo::projections
