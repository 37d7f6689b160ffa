// Which produced positions the broker has confirmed. Delivery reports may arrive out of log
// order (different partitions, retries); the checkpoint may only move over the contiguous prefix
// of confirmed positions, so that a restart never skips an unconfirmed event.
#pragma once

#include <cstdint>
#include <deque>

namespace procedo::kafka {

class DeliveryWindow {
 public:
  explicit DeliveryWindow(uint64_t confirmed = 0) { Reset(confirmed); }

  void Reset(uint64_t confirmed) {
    confirmed_ = confirmed;
    done_.clear();
  }
  // The next position to send: positions are produced in log order, without gaps.
  uint64_t next() const { return confirmed_ + done_.size() + 1; }
  void Sent() { done_.push_back(false); }
  // Returns false for a position that was not in flight (a stale or repeated report).
  bool Confirm(uint64_t position) {
    if (position <= confirmed_ || position >= next()) return false;
    done_[position - confirmed_ - 1] = true;
    while (!done_.empty() && done_.front()) {
      done_.pop_front();
      ++confirmed_;
    }
    return true;
  }
  uint64_t confirmed() const { return confirmed_; }
  size_t in_flight() const { return done_.size(); }

 private:
  uint64_t confirmed_ = 0;
  std::deque<bool> done_;  // done_[i] is position confirmed_ + 1 + i
};

}  // namespace procedo::kafka
