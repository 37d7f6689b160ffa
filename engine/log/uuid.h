#pragma once

#include <mutex>
#include <random>

#include "engine/base/clock.h"
#include "engine/log/event.h"

namespace procedo {

// UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then randomness with a monotonic counter so that
// ids minted in the same millisecond by one generator still sort in creation order.
class UuidV7Generator {
 public:
  explicit UuidV7Generator(const Clock& clock);
  Uuid Next();

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  int64_t last_ms_ = -1;
  uint16_t counter_ = 0;  // 12-bit rand_a used as a counter within a millisecond
};

}  // namespace procedo
