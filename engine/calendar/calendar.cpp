// Construction, closures, day classification and the per-day business spans of a calendar.
// The arithmetic over them is in calendar_arith.cpp; term and time parsing in calendar_text.cpp.
#include "engine/calendar/calendar.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/calendar/calendar_zone.h"

namespace procedo {
namespace {

using std::chrono::year_month_day;

constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr const char* kDayNames[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};

int32_t DayNumber(year_month_day d) {
  return static_cast<int32_t>(std::chrono::sys_days{d}.time_since_epoch().count());
}

year_month_day DateOf(int32_t day) {
  return year_month_day{std::chrono::sys_days{std::chrono::days{day}}};
}

// 1970-01-01 was a Thursday (4); c_encoding: Sunday = 0.
int WeekdayOf(int32_t day) {
  return static_cast<int>(((day % 7) + 7 + 4) % 7);
}

std::string HourMinute(std::chrono::minutes m) {
  return fmt::format("{:02}:{:02}", m.count() / 60, m.count() % 60);
}

void SetBit(std::vector<uint64_t>& bits, size_t i) {
  bits[i / 64] |= uint64_t{1} << (i % 64);
}
bool GetBit(const std::vector<uint64_t>& bits, size_t i) {
  return (bits[i / 64] >> (i % 64)) & 1U;
}

}  // namespace

Result<BusinessCalendar> BusinessCalendar::Create(const CalendarSpec& spec) {
  auto where = [&spec] { return fmt::format("calendar '{}'", spec.name); };
  auto zone = ZoneTable::Get(spec.time_zone);
  if (!zone.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", where(), zone.status().message()));
  }
  BusinessCalendar c;
  c.name_ = spec.name;
  c.time_zone_ = spec.time_zone;
  c.zone_ = *zone;
  c.first_day_ = c.zone_->first_day();
  c.last_day_ = c.zone_->last_day();

  for (int wd = 0; wd < 7; ++wd) {
    std::vector<BusinessWindow> ws = spec.windows[static_cast<size_t>(wd)];
    std::sort(ws.begin(), ws.end(), [](auto& a, auto& b) { return a.open < b.open; });
    if (ws.size() > kMaxWindows) {
      return Status::InvalidArgument(fmt::format("{}: {} has {} windows; at most {} are allowed",
                                                 where(), kDayNames[wd], ws.size(), kMaxWindows));
    }
    for (size_t i = 0; i < ws.size(); ++i) {
      const auto& w = ws[i];
      if (w.open.count() < 0 || w.close.count() > 24 * 60 || w.open >= w.close) {
        return Status::InvalidArgument(fmt::format(
            "{}: {} window {}-{} is not a range within one day; write open < close, both "
            "between 00:00 and 24:00",
            where(), kDayNames[wd], HourMinute(w.open), HourMinute(w.close)));
      }
      if (i > 0 && w.open < ws[i - 1].close) {
        return Status::InvalidArgument(
            fmt::format("{}: {} windows {}-{} and {}-{} overlap; merge them or move one", where(),
                        kDayNames[wd], HourMinute(ws[i - 1].open), HourMinute(ws[i - 1].close),
                        HourMinute(w.open), HourMinute(w.close)));
      }
      c.windows_[static_cast<size_t>(wd)].push_back(
          {w.open.count() * kMicrosPerMinute, w.close.count() * kMicrosPerMinute});
      c.week_total_ += (w.close - w.open).count() * kMicrosPerMinute;
    }
    if (!ws.empty()) ++c.workdays_per_week_;
  }
  if (c.workdays_per_week_ == 0) {
    return Status::InvalidArgument(
        fmt::format("{}: no business window on any weekday; add at least one", where()));
  }
  if (spec.non_working_day_receipt) {
    auto r = *spec.non_working_day_receipt;
    if (r.count() < 0 || r.count() >= 24 * 60) {
      return Status::InvalidArgument(fmt::format(
          "{}: the non-working-day receipt time must be between 00:00 and 23:59", where()));
    }
    c.receipt_ = r.count() * kMicrosPerMinute;
  }

  const size_t days = static_cast<size_t>(c.last_day_ - c.first_day_ + 1);
  c.holiday_bits_.assign(days / 64 + 1, 0);
  for (const auto& h : spec.holidays) {
    if (!h.ok()) {
      return Status::InvalidArgument(
          fmt::format("{}: holiday {}-{}-{} is not a date", where(), static_cast<int>(h.year()),
                      static_cast<unsigned>(h.month()), static_cast<unsigned>(h.day())));
    }
    const int32_t d = DayNumber(h);
    // Outside the supported range no computation can reach the day, so it is dropped.
    if (c.InRange(d)) SetBit(c.holiday_bits_, static_cast<size_t>(d - c.first_day_));
  }
  c.RebuildOff();
  return c;
}

void BusinessCalendar::RebuildOff() {
  off_bits_ = holiday_bits_;
  for (const auto& cl : closures_) {
    const int32_t from = std::max(DayNumber(cl.from), first_day_);
    const int32_t to = std::min(DayNumber(cl.to), last_day_);
    for (int32_t d = from; d <= to; ++d) SetBit(off_bits_, static_cast<size_t>(d - first_day_));
  }
  // One bit per day answers the question every walk asks most.
  working_bits_.assign(off_bits_.size(), 0);
  for (int32_t d = first_day_; d <= last_day_; ++d) {
    const size_t i = static_cast<size_t>(d - first_day_);
    if (!windows_[static_cast<size_t>(WeekdayOf(d))].empty() && !GetBit(off_bits_, i)) {
      SetBit(working_bits_, i);
    }
  }
}

Status BusinessCalendar::AddClosure(Closure closure) {
  if (!closure.from.ok() || !closure.to.ok() || closure.to < closure.from) {
    return Status::InvalidArgument(fmt::format(
        "calendar '{}': closure '{}' needs valid dates with from <= to", name_, closure.id));
  }
  for (const auto& c : closures_) {
    if (c.id == closure.id) {
      return Status::InvalidArgument(
          fmt::format("calendar '{}': closure '{}' already exists; cancel it first or use a new id",
                      name_, closure.id));
    }
  }
  closures_.push_back(std::move(closure));
  RebuildOff();
  return Status::Ok();
}

Status BusinessCalendar::RemoveClosure(std::string_view id) {
  auto it = std::find_if(closures_.begin(), closures_.end(),
                         [id](const Closure& c) { return c.id == id; });
  if (it == closures_.end()) {
    return Status::NotFound(fmt::format("calendar '{}': no closure '{}'", name_, id));
  }
  closures_.erase(it);
  RebuildOff();
  return Status::Ok();
}

void BusinessCalendar::ClearClosures() {
  closures_.clear();
  RebuildOff();
}

bool BusinessCalendar::PlainWeek(int32_t day, bool need_uniform) const {
  if (day + 6 > last_day_) return false;
  for (int32_t d = day; d < day + 7; ++d) {
    if (Off(d)) return false;
    if (need_uniform && zone_->UniformOffset(d) == ZoneTable::kNotUniform) return false;
  }
  return true;
}

bool BusinessCalendar::IsHoliday(year_month_day date) const {
  const int32_t d = DayNumber(date);
  return date.ok() && InRange(d) && GetBit(holiday_bits_, static_cast<size_t>(d - first_day_));
}

bool BusinessCalendar::IsClosed(year_month_day date) const {
  const int32_t d = DayNumber(date);
  return date.ok() && InRange(d) && Off(d) && !IsHoliday(date);
}

bool BusinessCalendar::IsBusinessDay(year_month_day date) const {
  const int32_t d = DayNumber(date);
  return date.ok() && InRange(d) && WorkingDay(d);
}

int BusinessCalendar::DaySpans(int32_t day, Span* out) const {
  const auto& ws = windows_[static_cast<size_t>(WeekdayOf(day))];
  const int64_t base = int64_t{day} * kMicrosPerDay;
  const int32_t off = zone_->UniformOffset(day);
  int n = 0;
  if (off != ZoneTable::kNotUniform) {
    const int64_t shift = base - int64_t{off} * kMicrosPerSecond;
    for (const auto& w : ws) out[n++] = {shift + w.open, shift + w.close};
    return n;
  }
  // A DST change near this day: each end through the tz database. A window runs from the first
  // instant its opening time shows on the wall clock to the last instant its closing time does.
  for (const auto& w : ws) {
    const int64_t b = zone_->LocalToUtc(base + w.open, true);
    const int64_t e = zone_->LocalToUtc(base + w.close, false);
    if (e > b) out[n++] = {b, e};
  }
  return n;
}

int64_t BusinessCalendar::LocalToUtcMicros(int64_t local, bool earliest) const {
  const int32_t day = static_cast<int32_t>(local >= 0 ? local / kMicrosPerDay : -1);
  if (InRange(day)) {
    const int32_t off = zone_->UniformOffset(day);
    if (off != ZoneTable::kNotUniform) return local - int64_t{off} * kMicrosPerSecond;
  }
  return zone_->LocalToUtc(local, earliest);
}

Status BusinessCalendar::Beyond() const {
  const auto first = first_date();
  const auto last = last_date();
  return Status::InvalidArgument(fmt::format(
      "calendar '{}': the computation needs dates outside {}-{:02}-{:02}..{}-{:02}-{:02}, the "
      "range "
      "the {} time-zone data covers; use an instant inside it",
      name_, static_cast<int>(first.year()), static_cast<unsigned>(first.month()),
      static_cast<unsigned>(first.day()), static_cast<int>(last.year()),
      static_cast<unsigned>(last.month()), static_cast<unsigned>(last.day()), time_zone_));
}

Result<int32_t> BusinessCalendar::LocalDay(int64_t utc) const {
  const int64_t local = utc + int64_t{zone_->OffsetAt(utc)} * kMicrosPerSecond;
  const int64_t day = local >= 0 ? local / kMicrosPerDay : -1;
  if (day < first_day_ || day > last_day_) return Beyond();
  return static_cast<int32_t>(day);
}

Result<year_month_day> BusinessCalendar::LocalDate(TimePoint t) const {
  auto d = LocalDay(t.time_since_epoch().count());
  if (!d.ok()) return d.status();
  return DateOf(*d);
}

Result<TimePoint> BusinessCalendar::LocalToUtc(year_month_day date,
                                               std::chrono::minutes time) const {
  const int32_t d = DayNumber(date);
  if (!date.ok() || !InRange(d)) return Beyond();
  const int64_t local = int64_t{d} * kMicrosPerDay + time.count() * kMicrosPerMinute;
  return TimePoint(Micros(LocalToUtcMicros(local, true)));
}

std::string BusinessCalendar::FormatLocal(TimePoint t) const {
  const int64_t utc = t.time_since_epoch().count();
  const int32_t off = zone_->OffsetAt(utc);
  const int64_t local = utc + int64_t{off} * kMicrosPerSecond;
  int64_t day = local / kMicrosPerDay;
  int64_t rem = local % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --day;
  }
  const auto ymd = DateOf(static_cast<int32_t>(day));
  const int64_t secs = rem / kMicrosPerSecond;
  const int64_t frac = rem % kMicrosPerSecond;
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), secs / 3600,
                  secs / 60 % 60, secs % 60);
  if (frac != 0) out += fmt::format(".{:06}", frac);
  const int32_t a = off < 0 ? -off : off;
  out += fmt::format("{}{:02}:{:02}", off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return out;
}

year_month_day BusinessCalendar::first_date() const {
  return DateOf(first_day_);
}
year_month_day BusinessCalendar::last_date() const {
  return DateOf(last_day_);
}

}  // namespace procedo
