// The waiting list moving up by itself (seed 003): a reactor that follows the log and, for each
// place.released of a service whose catalogue entry says `"waiting_list": "automatic"`, sends
// admit_to_service as the system actor `waiting-list` for the first waiting application of
// that service and site in the ranking's order (the `rankings` view's key order: the score's
// components, the sequence number last). The admission records `moved_up_from_waiting_list`
// and `released_by` (the release event and the application that withdrew).
//
// Exactly once across crashes: the command's idempotency key is derived from the release event
// (its counter stream and version), so a release handled again after a restart is answered
// from the log (the same application), or refused as a key already used (the list moved on
// since). The checkpoint (the last log position handled) is kept in the view store, committed
// after the releases before it were handled. The places are the decider's: when it answers
// that none is free (Status sub-code kNoCapacity), nothing is recorded and the reactor moves on.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "domain/services.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"

namespace procedo::projections {

// The view store's column family that holds the reactor's checkpoint (and nothing else).
inline constexpr const char* kWaitingListView = "waiting_list";

struct WaitingListOptions {
  // Bounds each wait for the rankings view to reach the release (and the reactor's own last
  // admission); past it the release is tried again on the next pass, and the health says why.
  std::chrono::milliseconds view_wait{10'000};
  // Waiting applications tried per release when one is refused for a reason of its own (the
  // first is almost always admitted or refused for want of a place).
  size_t max_candidates = 16;
};

class WaitingListReactor final : public Consumer {
 public:
  static constexpr const char* kActor = "waiting-list";

  // Everything passed must outlive the reactor. `views` must have been opened with
  // kWaitingListView among its column families; `runner` applies the rankings projection.
  WaitingListReactor(CommandHandler& commands, ViewStore& views, ProjectionRunner& runner,
                     std::shared_ptr<const domain::ServiceCatalogue> services,
                     WaitingListOptions options = {});
  ~WaitingListReactor() override;
  WaitingListReactor(const WaitingListReactor&) = delete;
  WaitingListReactor& operator=(const WaitingListReactor&) = delete;

  std::string name() const override { return "waiting_list"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

  // Handles what the log holds past the checkpoint, waiting up to `wait` for something new;
  // the reactor's thread calls it in a loop, tests call it on their own thread instead of
  // Start. Returns the number of releases handled.
  Result<size_t> Pump(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Tests: waits until the started reactor has handled the whole log. False on timeout.
  bool WaitSettled(std::chrono::milliseconds timeout);

  // The idempotency key of the admission a release causes.
  static std::string IdempotencyKey(const Event& release);

  uint64_t checkpoint() const { return position_.load(); }
  uint64_t admitted() const { return Counter("admitted"); }

 private:
  // One release: ok once it is handled for good (admitted, none waiting, no place, a manual
  // list), an error to try it again later.
  Status HandleRelease(const Event& release);
  Status Commit(uint64_t position);
  uint64_t Counter(const std::string& name) const;
  void Count(const std::string& name);
  void Loop();

  CommandHandler& commands_;
  const LogStore& log_;
  ViewStore& views_;
  ProjectionRunner& runner_;
  std::shared_ptr<const domain::ServiceCatalogue> services_;
  WaitingListOptions options_;
  std::unique_ptr<Subscription> sub_;
  // The last position of this process's own admissions: the view must reach it before the
  // next release is judged, or the application just admitted would look waiting still.
  uint64_t own_ = 0;

  std::atomic<uint64_t> position_{0};
  mutable std::mutex mu_;
  std::condition_variable advanced_;
  std::map<std::string, uint64_t> counters_;  // guarded by mu_
  Status health_;                             // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace procedo::projections
