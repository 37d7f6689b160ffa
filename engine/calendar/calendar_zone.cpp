#include "engine/calendar/calendar_zone.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

namespace procedo {
namespace {

int64_t ToMicros(date::sys_seconds t) {
  return int64_t{t.time_since_epoch().count()} * kMicrosPerSecond;
}

// 2199-12-31: far enough for any term, small enough for per-day tables.
constexpr int32_t kCapDay = static_cast<int32_t>(
    std::chrono::sys_days{std::chrono::year{2199} / 12 / 31}.time_since_epoch().count());
constexpr int64_t kMargin = 44 * 3600 * kMicrosPerSecond;  // one day plus the widest offset swing

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
    return Status::InvalidArgument(fmt::format(
        "unknown time zone '{}' ({}); use an IANA name from /usr/share/zoneinfo, e.g. Europe/Rome",
        name, e.what()));
  }
  std::shared_ptr<ZoneTable> t(new ZoneTable());
  t->zone_ = zone;
  t->first_day_ = 1;  // 1970-01-02: every local time of it is after the epoch in any zone

  // Walk the offset periods from before the first supported day to the open-ended last one.
  auto at = date::sys_seconds{std::chrono::seconds{-3 * 86'400}};
  auto info = zone->get_info(at);
  t->offset_before_ = static_cast<int32_t>(info.offset.count());
  const auto far = date::sys_days{date::year{3000} / 1 / 1};
  while (info.end < far) {
    at = info.end;
    info = zone->get_info(at);
    t->transitions_.push_back(ToMicros(at));
    t->offset_after_.push_back(static_cast<int32_t>(info.offset.count()));
  }
  // The system tz database is read as explicit transitions only (date/tz ignores the rule that
  // extends a TZif file past its last entry, 2037 in Debian's files). If the zone was still
  // changing offset every year when its data stops, later years would silently lose DST: stop the
  // supported range at the end of the year of the last transition instead.
  t->last_day_ = kCapDay;
  if (t->transitions_.size() >= 3) {
    const int64_t last = t->transitions_.back();
    const int64_t before = t->transitions_[t->transitions_.size() - 3];
    if (last - before <= 400 * kMicrosPerDay) {
      auto ymd = date::year_month_day{date::floor<date::days>(
          date::sys_seconds{std::chrono::seconds{last / kMicrosPerSecond}})};
      auto end = date::sys_days{ymd.year() / 12 / 31};
      t->last_day_ = std::min(kCapDay, static_cast<int32_t>(end.time_since_epoch().count()));
    }
  }

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

int32_t ZoneTable::SearchOffset(int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return offset_before_;
  return offset_after_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

int64_t ZoneTable::LocalToUtc(int64_t local, bool earliest) const {
  // Floor to whole seconds for the lookup; offsets are whole seconds, so the fraction carries.
  int64_t secs = local / kMicrosPerSecond;
  if (local % kMicrosPerSecond < 0) --secs;
  auto info = zone_->get_info(date::local_seconds{std::chrono::seconds{secs}});
  switch (info.result) {
    case date::local_info::unique:
      return local - int64_t{info.first.offset.count()} * kMicrosPerSecond;
    case date::local_info::nonexistent:
      return ToMicros(info.second.begin);
    case date::local_info::ambiguous:
    default:
      return local -
             int64_t{(earliest ? info.first : info.second).offset.count()} * kMicrosPerSecond;
  }
}

}  // namespace procedo
