// Retention: the personal data of a procedure's streams is kept for the period its catalogue
// entry gives (`retention`: so many years after the event that ends the stream), then erased by
// the server itself, as a command (erase_personal_data, reason "retention", system actor
// `retention`), exactly when due on the server's one clock.
//
// A person is erased only when every stream they appear in has ended and its period has passed:
// a citizen with a closed case and an open one keeps their data until the open one ends and its
// own period passes; a stream of a procedure without retention keeps its subjects for good (until
// an erasure is ordered). The reactor folds, in its own column family of the view store, each
// stream's subjects and each subject's streams still open and latest due time, with an index of
// subjects by due time; its checkpoint commits with its rows. The command's idempotency key is
// the subject's and its due time's, so a pass repeated after a crash erases once.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "domain/catalogue.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/sla_timer.h"

namespace procedo::projections {

inline constexpr const char* kRetentionView = "retention";

class RetentionReactor final : public Consumer {
 public:
  static constexpr const char* kActor = "retention";

  // Everything passed must outlive the reactor; `views` must have kRetentionView among its
  // column families. Time is `waiter`'s clock.
  RetentionReactor(CommandHandler& commands, ViewStore& views,
                   std::shared_ptr<const domain::Catalogue> catalogue, Waiter& waiter);
  ~RetentionReactor() override;
  RetentionReactor(const RetentionReactor&) = delete;
  RetentionReactor& operator=(const RetentionReactor&) = delete;

  std::string name() const override { return "retention"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

  // Folds what the log holds past the checkpoint (waiting up to `wait` for something new), then
  // erases every subject due by now. The thread calls it in a loop; tests on their own thread.
  // Returns the number of subjects erased.
  Result<size_t> Pump(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  uint64_t erased() const { return erased_.load(); }
  uint64_t checkpoint() const { return position_.load(); }

 private:
  void Loop();
  Status Fold(const Event& e, ViewWriter& rows);
  Result<size_t> EraseDue();

  CommandHandler& commands_;
  const LogStore& log_;
  ViewStore& views_;
  std::shared_ptr<const domain::Catalogue> catalogue_;
  // Which procedures' streams end with each event type (those with a retention).
  std::map<std::string, std::set<std::string>> closing_;
  Waiter& waiter_;
  std::unique_ptr<Subscription> sub_;
  std::atomic<uint64_t> position_{0}, erased_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  Status health_;
  std::thread thread_;
};

}  // namespace procedo::projections
