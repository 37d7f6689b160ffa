// One contract for everything that follows the log (or another source) with a checkpoint: the
// projection runner, the reactors that act on events, and the relays to and from other systems.
// A supervisor starts them in order, stops them in reverse, and reports them all the same way,
// so the server's readiness and metrics need no code per consumer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/clock.h"
#include "engine/base/status.h"
#include "engine/log/log_store.h"

namespace procedo {

struct ConsumerProgress {
  // Where it is: the last log position it has handled and committed (its checkpoint), or for a
  // consumer of another source, the count it reports there.
  uint64_t position = 0;
  // How far behind: log positions not yet handled (or messages, for another source). Log
  // consumers leave it to the supervisor, which measures it against the log's head.
  std::optional<uint64_t> lag;
  double lag_seconds = 0;  // age of the oldest thing not handled; 0 when caught up
  Status health;           // ok, or why it is failing (it may still be retrying)
  // Whether a failure makes the server unready (a stopped projection does; a broker that is
  // down does not: commands keep being accepted and the relay catches up later).
  bool essential = true;
  std::vector<std::pair<std::string, double>> counters;  // its own totals, by name
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Lowercase, stable, unique in a server: "projections", "sla_timer", ...
  virtual std::string name() const = 0;
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  virtual ConsumerProgress Progress() const = 0;
};

struct ConsumerStatus {
  std::string name;
  ConsumerProgress progress;
};

class ConsumerSupervisor {
 public:
  explicit ConsumerSupervisor(const LogStore& log, const Clock& clock)
      : log_(log), clock_(clock) {}
  ~ConsumerSupervisor() { StopAll(); }

  // In start order; a consumer that waits on another is added after it. Not owned.
  void Add(Consumer* consumer);
  // Starts every consumer not started yet; the first failure stops those already started and is
  // returned (a server must not run with half its consumers).
  Status StartAll();
  // Stops every started consumer, last first. Idempotent.
  void StopAll();
  // Every consumer's progress; log consumers' lag is measured against the log's head, and
  // their lag in seconds from the recorded time of the first event they have not handled.
  std::vector<ConsumerStatus> Statuses() const;

 private:
  const LogStore& log_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Consumer*> consumers_;
  size_t started_ = 0;
};

// A consumer's catch-up: the log from `from` to its head as it is now, in pages of shared events,
// each handed to `apply` in order; the first error stops it.
Status ReadToHead(const LogStore& log, uint64_t from,
                  const std::function<Status(const std::vector<EventPtr>& page)>& apply);

}  // namespace procedo
