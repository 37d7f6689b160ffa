#include "engine/calendar/calendar_zone.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>

#include "engine/calendar/posix_tz.h"

namespace procedo {
namespace {

int64_t ToMicros(date::sys_seconds t) {
  return int64_t{t.time_since_epoch().count()} * kMicrosPerSecond;
}

constexpr const char* kZoneDir = "/usr/share/zoneinfo";  // where date/tz reads the zones too

// 2199-12-31: far enough for any term, small enough for per-day tables.
constexpr int kCapYear = 2199;
constexpr int32_t kCapDay = static_cast<int32_t>(
    std::chrono::sys_days{std::chrono::year{kCapYear} / 12 / 31}.time_since_epoch().count());
constexpr int64_t kMargin = 44 * 3600 * kMicrosPerSecond;  // one day plus the widest offset swing

int YearOf(int64_t utc) {
  const std::chrono::sys_seconds t{std::chrono::seconds{utc / kMicrosPerSecond}};
  return static_cast<int>(
      std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)}.year());
}

}  // namespace

Result<std::shared_ptr<const ZoneTable>> ZoneTable::Get(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const ZoneTable>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;

  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        fmt::format("unknown time zone '{}' ({}); use an IANA name from {}, e.g. Europe/Rome", name,
                    e.what(), kZoneDir));
  }
  auto unreadable = [&name](const std::string& why) {
    return Status::InvalidArgument(fmt::format(
        "time zone '{}': {}; reinstall the system tz data (the tzdata package) or use another "
        "IANA name",
        name, why));
  };
  std::shared_ptr<ZoneTable> t(new ZoneTable());
  t->first_day_ = 1;  // 1970-01-02: every local time of it is after the epoch in any zone

  // The explicit transitions, as date/tz reads them: from before the first supported day to the
  // open-ended last period. date/tz reads the file on first use and throws if it cannot.
  try {
    auto at = date::sys_seconds{std::chrono::seconds{-3 * 86'400}};
    auto info = zone->get_info(at);
    t->offset_before_ = static_cast<int32_t>(info.offset.count());
    const auto far = date::sys_days{date::year{3000} / 1 / 1};
    while (info.end < far) {
      at = info.end;
      info = zone->get_info(at);
      t->Append(ToMicros(at), static_cast<int32_t>(info.offset.count()));
    }
  } catch (const std::exception& e) {
    return unreadable(e.what());
  }

  // After them, the footer's rule. Without one (a version 1 file, or a footer this code cannot
  // read) a zone still changing offset every year when its data stops would silently lose DST in
  // later years: the supported range then stops at the end of the year of its last transition.
  auto footer = ReadTzifFooter(fmt::format("{}/{}", kZoneDir, zone->name()));
  if (!footer.ok()) return unreadable(footer.status().message());
  auto rule = ParsePosixTz(*footer);
  t->last_day_ = kCapDay;
  const int64_t explicit_end =
      t->transitions_.empty() ? std::numeric_limits<int64_t>::min() : t->transitions_.back();
  if (rule.ok()) {
    // From the year before the last explicit transition: a v3 rule time may move a change days
    // away from the day it names.
    const int from = t->transitions_.empty() ? 1969 : YearOf(explicit_end) - 1;
    for (const auto& c : PosixTzChanges(*rule, from, kCapYear + 1)) {
      if (c.utc * kMicrosPerSecond > explicit_end) t->Append(c.utc * kMicrosPerSecond, c.offset);
    }
  } else if (t->transitions_.size() >= 3) {
    const int64_t before = t->transitions_[t->transitions_.size() - 3];
    if (explicit_end - before <= 400 * kMicrosPerDay) {
      const auto end = std::chrono::sys_days{std::chrono::year{YearOf(explicit_end)} / 12 / 31};
      t->last_day_ = std::min(kCapDay, static_cast<int32_t>(end.time_since_epoch().count()));
    }
  }

  t->max_shift_ = std::abs(int64_t{t->offset_before_});
  for (const int32_t off : t->offset_after_) {
    t->max_shift_ = std::max(t->max_shift_, std::abs(int64_t{off}));
  }
  t->max_shift_ *= kMicrosPerSecond;

  t->uniform_.resize(static_cast<size_t>(t->last_day_ - t->first_day_ + 1));
  size_t i = 0;
  for (int32_t d = t->first_day_; d <= t->last_day_; ++d) {
    const int64_t lo = int64_t{d} * kMicrosPerDay - kMargin;
    const int64_t hi = int64_t{d + 1} * kMicrosPerDay + kMargin;
    while (i < t->transitions_.size() && t->transitions_[i] < lo) ++i;
    const bool uniform = i == t->transitions_.size() || t->transitions_[i] > hi;
    t->uniform_[static_cast<size_t>(d - t->first_day_)] =
        !uniform ? kNotUniform : (i == 0 ? t->offset_before_ : t->offset_after_[i - 1]);
  }
  cache.emplace(name, t);
  return std::shared_ptr<const ZoneTable>(std::move(t));
}

void ZoneTable::Append(int64_t at, int32_t offset) {
  if (!transitions_.empty() && transitions_.back() == at) {
    // Two changes at one instant: the later one is what holds.
    offset_after_.back() = offset;
    if (PeriodOffset(transitions_.size() - 1) == offset) {
      transitions_.pop_back();
      offset_after_.pop_back();
    }
    return;
  }
  // A change of abbreviation or of DST flag alone changes nothing here.
  if (PeriodOffset(transitions_.size()) == offset) return;
  transitions_.push_back(at);
  offset_after_.push_back(offset);
}

int32_t ZoneTable::SearchOffset(int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return offset_before_;
  return offset_after_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

int64_t ZoneTable::LocalToUtc(int64_t local, bool earliest) const {
  // Period k runs from transitions_[k - 1] to transitions_[k] and shows the wall times
  // [begin + offset, end + offset). One that ends before local - max_shift_ or begins after
  // local + max_shift_ cannot show `local`, so only a few periods around it are looked at.
  const size_t n = transitions_.size();
  size_t k = static_cast<size_t>(
      std::lower_bound(transitions_.begin(), transitions_.end(), local - max_shift_) -
      transitions_.begin());
  bool found = false;
  int64_t first = 0;
  int64_t last = 0;
  int64_t gap = 0;
  bool in_gap = false;
  for (; k <= n; ++k) {
    if (k > 0 && transitions_[k - 1] > local + max_shift_) break;
    const int64_t utc = local - int64_t{PeriodOffset(k)} * kMicrosPerSecond;
    if (k < n && utc >= transitions_[k]) {
      // `local` comes after this period's wall times; if it also comes before the next one's,
      // the clock jumped over it at transitions_[k].
      if (!in_gap && local < transitions_[k] + int64_t{PeriodOffset(k + 1)} * kMicrosPerSecond) {
        gap = transitions_[k];
        in_gap = true;
      }
      continue;
    }
    if (k > 0 && utc < transitions_[k - 1]) continue;
    if (!found) first = utc;
    last = utc;
    found = true;
  }
  if (found) return earliest ? first : last;
  if (in_gap) return gap;
  return local - int64_t{OffsetAt(local)} * kMicrosPerSecond;  // unreachable with a sane table
}

}  // namespace procedo
