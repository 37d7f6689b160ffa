// The time zone behind a BusinessCalendar, precomputed once per zone name and shared: the UTC
// offset periods up to 2199 (the file's explicit transitions, then its footer's rule), and for
// each local day whether one offset holds for all of it (the fast path of every calendar
// computation). Internal to engine/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace procedo {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

class ZoneTable {
 public:
  // Shared per zone name; thread-safe. InvalidArgument for a name the tz database does not have
  // or whose file cannot be read.
  static Result<std::shared_ptr<const ZoneTable>> Get(const std::string& name);

  static constexpr int32_t kNotUniform = INT32_MIN;

  // Local day numbers (days since 1970-01-01) the table covers.
  int32_t first_day() const { return first_day_; }
  int32_t last_day() const { return last_day_; }
  // The offset in seconds that holds for the whole local day, or kNotUniform near a transition.
  int32_t UniformOffset(int32_t day) const { return uniform_[day - first_day_]; }
  // UTC offset in seconds at a UTC instant (microseconds).
  int32_t OffsetAt(int64_t utc) const {
    // A uniform local day has no transition within 44 h of it, which covers the whole UTC day of
    // the same number: the table answers without a search.
    const int64_t day = utc >= 0 ? utc / kMicrosPerDay : -1;
    if (day >= first_day_ && day <= last_day_) {
      const int32_t off = uniform_[static_cast<size_t>(day - first_day_)];
      if (off != kNotUniform) return off;
    }
    return SearchOffset(utc);
  }
  // The UTC instant of a local wall time: when it happens twice, the earliest (or latest); when
  // it does not happen (a DST gap), the instant of the transition.
  int64_t LocalToUtc(int64_t local, bool earliest) const;

 private:
  ZoneTable() = default;
  int32_t SearchOffset(int64_t utc) const;
  int32_t PeriodOffset(size_t k) const { return k == 0 ? offset_before_ : offset_after_[k - 1]; }
  void Append(int64_t at, int32_t offset);
  int32_t first_day_ = 0;
  int32_t last_day_ = 0;
  std::vector<int64_t> transitions_;   // UTC microseconds, ascending
  std::vector<int32_t> offset_after_;  // seconds, offset_after_[i] from transitions_[i]
  int32_t offset_before_ = 0;          // before transitions_[0]
  int64_t max_shift_ = 0;              // the largest |offset| of any period, in microseconds
  std::vector<int32_t> uniform_;
};

}  // namespace procedo
