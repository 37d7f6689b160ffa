// Read models built by tailing the log, and the runner that feeds them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/clock.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "engine/views/view_store.h"

namespace procedo {

class Projection {
 public:
  virtual ~Projection() = default;
  // Also the column family of its rows: lowercase, stable, e.g. "case_view".
  virtual std::string name() const = 0;
  // Folds one event into the view. Must be deterministic: a rebuild from position 0 must write
  // exactly the rows the live projection wrote. An error stops the runner (a bug, not input).
  virtual Status Apply(const Event& event, ViewWriter& rows) = 0;
};

struct ProjectionStatus {
  std::string name;
  uint64_t checkpoint = 0;
};

// One thread, one subscription: each batch of events goes through every projection that has not
// seen it yet, and all their rows and checkpoints commit in one WriteBatch.
class ProjectionRunner final : public Consumer {
 public:
  ProjectionRunner(LogStore& log, ViewStore& views, std::vector<Projection*> projections);
  ~ProjectionRunner() override;

  std::string name() const override { return "projections"; }
  // Catches up with the log on the calling thread, then follows it on a thread of its own.
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;
  // Applies everything up to the log's current head on the calling thread; for `procedo rebuild`
  // and tests. `progress(position, head)` is called after each batch.
  Status CatchUp(const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

  // The lowest checkpoint of all projections: every view reflects at least this position.
  uint64_t position() const { return position_.load(std::memory_order_acquire); }
  // Waits until position() >= target, up to `timeout`. For read-your-writes.
  bool WaitFor(uint64_t target, std::chrono::milliseconds timeout);
  std::vector<ProjectionStatus> Statuses() const;
  // A non-ok status when a projection failed and the runner stopped.
  Status failure() const;

 private:
  Status ApplyBatch(const std::vector<EventPtr>& events);
  void Loop();

  LogStore& log_;
  ViewStore& views_;
  std::vector<Projection*> projections_;
  std::vector<uint64_t> checkpoints_;
  std::atomic<uint64_t> position_{0};
  std::atomic<bool> stop_{false};
  std::unique_ptr<Subscription> sub_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable advanced_;
  Status failure_;
};

}  // namespace procedo
