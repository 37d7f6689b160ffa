// The arithmetic of terms over a BusinessCalendar. Days are walked one at a time with each
// weekday's precomputed windows; a week with no holiday, closure or DST change is skipped whole.
#include <fmt/format.h>

#include <algorithm>

#include "engine/calendar/calendar.h"
#include "engine/calendar/calendar_zone.h"

namespace procedo {
namespace {

TimePoint ToTime(int64_t micros) {
  return TimePoint(Micros(micros));
}
int64_t ToMicros(TimePoint t) {
  return t.time_since_epoch().count();
}

}  // namespace

Result<int64_t> BusinessCalendar::NextOpeningMicros(int64_t utc) const {
  auto first = LocalDay(utc);
  if (!first.ok()) return first.status();
  Span spans[kMaxWindows];
  for (int32_t day = *first; day <= last_day_; ++day) {
    if (!WorkingDay(day)) continue;
    const int n = DaySpans(day, spans);
    for (int i = 0; i < n; ++i) {
      if (spans[i].end > utc) return std::max(spans[i].begin, utc);
    }
  }
  return Beyond();
}

Result<int32_t> BusinessCalendar::ReceiptDay(TimePoint t) const {
  auto day = LocalDay(ToMicros(t));
  if (!day.ok() || !receipt_ || WorkingDay(*day)) return day;
  for (int32_t d = *day + 1; d <= last_day_; ++d) {
    if (WorkingDay(d)) return d;
  }
  return Beyond();
}

Result<int64_t> BusinessCalendar::EffectiveStartMicros(int64_t utc) const {
  if (receipt_) {
    auto day = LocalDay(utc);
    if (!day.ok()) return day.status();
    if (!WorkingDay(*day)) {
      auto rd = ReceiptDay(ToTime(utc));
      if (!rd.ok()) return rd.status();
      // The fixed receipt time may itself fall outside the windows of that day.
      return NextOpeningMicros(LocalToUtcMicros(int64_t{*rd} * kMicrosPerDay + *receipt_, true));
    }
  }
  return NextOpeningMicros(utc);
}

bool BusinessCalendar::IsBusinessTime(TimePoint t) const {
  const int64_t u = ToMicros(t);
  auto day = LocalDay(u);
  if (!day.ok() || !WorkingDay(*day)) return false;
  Span spans[kMaxWindows];
  const int n = DaySpans(*day, spans);
  for (int i = 0; i < n; ++i) {
    if (spans[i].begin <= u && u < spans[i].end) return true;
  }
  return false;
}

Result<TimePoint> BusinessCalendar::NextOpening(TimePoint t) const {
  auto r = NextOpeningMicros(ToMicros(t));
  if (!r.ok()) return r.status();
  return ToTime(*r);
}

Result<TimePoint> BusinessCalendar::EffectiveStart(TimePoint t) const {
  auto r = EffectiveStartMicros(ToMicros(t));
  if (!r.ok()) return r.status();
  return ToTime(*r);
}

Result<TimePoint> BusinessCalendar::AddBusiness(TimePoint t, Micros d) const {
  if (d.count() < 0) {
    return Status::InvalidArgument(
        fmt::format("calendar '{}': a business duration cannot be negative", name_));
  }
  if (d.count() == 0) return t;
  auto start = EffectiveStartMicros(ToMicros(t));
  if (!start.ok()) return start.status();
  const int64_t s = *start;
  auto first = LocalDay(s);
  if (!first.ok()) return first.status();
  int64_t rem = d.count();
  Span spans[kMaxWindows];
  for (int32_t day = *first; day <= last_day_;) {
    if (day != *first && rem > week_total_ && PlainWeek(day, true)) {
      rem -= week_total_;
      day += 7;
      continue;
    }
    if (WorkingDay(day)) {
      const int n = DaySpans(day, spans);
      for (int i = 0; i < n; ++i) {
        if (spans[i].end <= s) continue;
        const int64_t from = std::max(spans[i].begin, s);
        const int64_t avail = spans[i].end - from;
        if (rem <= avail) return ToTime(from + rem);
        rem -= avail;
      }
    }
    ++day;
  }
  return Beyond();
}

Result<TimePoint> BusinessCalendar::AddBusinessDays(TimePoint t, int n) const {
  if (n < 1) {
    return Status::InvalidArgument(fmt::format(
        "calendar '{}': a business-day term needs at least 1 day (the day of receipt never "
        "counts); got {}",
        name_, n));
  }
  auto receipt = ReceiptDay(t);
  if (!receipt.ok()) return receipt.status();
  int count = 0;
  for (int32_t day = *receipt + 1; day <= last_day_;) {
    if (n - count > workdays_per_week_ && PlainWeek(day, false)) {
      count += workdays_per_week_;
      day += 7;
      continue;
    }
    if (WorkingDay(day) && ++count == n) {
      const auto& w = windows_[static_cast<size_t>(((day % 7) + 7 + 4) % 7)].back();
      return ToTime(LocalToUtcMicros(int64_t{day} * kMicrosPerDay + w.close, false));
    }
    ++day;
  }
  return Beyond();
}

Result<TimePoint> BusinessCalendar::AddCalendarDays(TimePoint t, int n) const {
  if (n < 1) {
    return Status::InvalidArgument(fmt::format(
        "calendar '{}': a calendar-day term needs at least 1 day (the day of receipt never "
        "counts); got {}",
        name_, n));
  }
  auto receipt = ReceiptDay(t);
  if (!receipt.ok()) return receipt.status();
  if (n > last_day_ - *receipt) return Beyond();
  int32_t day = *receipt + n;
  while (day <= last_day_ && !WorkingDay(day)) ++day;
  if (day > last_day_) return Beyond();
  // The term runs to the end of that local day: the last microsecond before the next midnight.
  return ToTime(LocalToUtcMicros(int64_t{day + 1} * kMicrosPerDay, false) - 1);
}

Result<TimePoint> BusinessCalendar::Add(TimePoint t, const CalendarTerm& term) const {
  switch (term.kind) {
    case CalendarTerm::Kind::kBusinessDays:
      return AddBusinessDays(t, term.days);
    case CalendarTerm::Kind::kCalendarDays:
      return AddCalendarDays(t, term.days);
    case CalendarTerm::Kind::kBusinessTime:
    default:
      return AddBusiness(t, term.business_time);
  }
}

Result<int64_t> BusinessCalendar::BetweenMicros(int64_t a, int64_t b) const {
  if (b <= a) return int64_t{0};
  auto da = LocalDay(a);
  if (!da.ok()) return da.status();
  auto db = LocalDay(b);
  if (!db.ok()) return db.status();
  int64_t total = 0;
  Span spans[kMaxWindows];
  for (int32_t day = *da; day <= *db;) {
    if (day != *da && day + 7 <= *db && PlainWeek(day, true)) {
      total += week_total_;
      day += 7;
      continue;
    }
    if (WorkingDay(day)) {
      const int n = DaySpans(day, spans);
      for (int i = 0; i < n; ++i) {
        const int64_t lo = std::max(spans[i].begin, a);
        const int64_t hi = std::min(spans[i].end, b);
        if (hi > lo) total += hi - lo;
      }
    }
    ++day;
  }
  return total;
}

Result<Micros> BusinessCalendar::BusinessTimeBetween(TimePoint t1, TimePoint t2) const {
  auto r = BetweenMicros(ToMicros(t1), ToMicros(t2));
  if (!r.ok()) return r.status();
  return Micros(*r);
}

Result<Micros> BusinessCalendar::Elapsed(TimePoint t1, TimePoint t2) const {
  if (t2 <= t1) return Micros(0);
  auto s = EffectiveStartMicros(ToMicros(t1));
  if (!s.ok()) return s.status();
  return BusinessTimeBetween(ToTime(*s), t2);
}

}  // namespace procedo
