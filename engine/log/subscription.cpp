#include <fmt/format.h>

#include "engine/log/log_core.h"

namespace procedo {

Subscription::Subscription(std::shared_ptr<LogCore> core, uint64_t from)
    : core_(std::move(core)), next_(from) {}

Subscription::~Subscription() = default;

void Subscription::Cancel() {
  cancelled_.store(true);
  std::lock_guard lock(core_->live_mu);
  core_->live_cv.notify_all();
}

Result<std::vector<EventPtr>> Subscription::Next(size_t max, std::chrono::milliseconds wait) {
  std::vector<EventPtr> out;
  if (max == 0) return out;
  LogCore& c = *core_;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(c.live_mu);
  for (;;) {
    if (cancelled_.load()) return Status::Shutdown("the subscription was cancelled");
    const uint64_t last = c.last_position.load(std::memory_order_acquire);
    if (next_ <= last) {
      const uint64_t n = std::min<uint64_t>(max, last - next_ + 1);
      if (next_ >= c.ring_first) {
        const uint64_t cap = c.ring.size();
        for (uint64_t p = next_; p < next_ + n; ++p) out.push_back(c.ring[p % cap]);
        next_ += n;
        return out;
      }
      // Behind the live window: catch up from the store, without holding the lock.
      lock.unlock();
      auto events = c.ReadRange(next_, n);
      if (!events.ok()) return events.status();
      for (auto& e : events.value()) {
        if (e.position != next_) {
          return Status::Corruption(fmt::format(
              "the log has no event at position {} (found {}); run 'procedo verify'", next_,
              e.position));
        }
        ++next_;
        out.push_back(std::make_shared<Event>(std::move(e)));
      }
      return out;
    }
    if (c.closed) return Status::Shutdown("the log was closed");
    if (c.live_cv.wait_until(lock, deadline) == std::cv_status::timeout &&
        c.last_position.load() < next_) {
      return out;
    }
  }
}

}  // namespace procedo
