// Business calendars: which instants count towards a term, and the arithmetic of terms (business
// time, business days, calendar days) over them. Every local<->UTC conversion goes through the tz
// database, so DST days have the wall-clock hours they really have. The rules are written out in
// engine/README.md ("Business calendars"); the functions here are pure and thread-safe (const).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/clock.h"
#include "engine/base/status.h"

namespace procedo {

// [open, close) in local wall time, minutes after midnight; close may be 24:00 (1440).
struct BusinessWindow {
  std::chrono::minutes open{0};
  std::chrono::minutes close{0};
};

// Whole local dates, both ends included, on which the service is closed.
struct Closure {
  std::string id;
  std::chrono::year_month_day from;
  std::chrono::year_month_day to;
  std::string reason;
};

struct CalendarSpec {
  std::string name;       // appears in error messages
  std::string time_zone;  // IANA name, e.g. "Europe/Rome"
  // Indexed by weekday c_encoding(): 0 = Sunday ... 6 = Saturday.
  std::array<std::vector<BusinessWindow>, 7> windows;
  std::vector<std::chrono::year_month_day> holidays;
  // When set, a receipt on a non-working day counts as received at this local time of the next
  // working day (instead of at the next opening).
  std::optional<std::chrono::minutes> non_working_day_receipt;
};

// A term as written in definitions and on the command line: "30m", "6h", "45s" (business time),
// "3bd" (business days), "20d" (calendar days).
struct CalendarTerm {
  enum class Kind : uint8_t { kBusinessTime, kBusinessDays, kCalendarDays };
  Kind kind = Kind::kBusinessTime;
  Micros business_time{0};  // kBusinessTime
  int days = 0;             // kBusinessDays, kCalendarDays
};

Result<CalendarTerm> ParseTerm(std::string_view text);
std::string FormatTerm(const CalendarTerm& term);

// RFC 3339 with an explicit offset ("2026-11-26T09:30:00+01:00", "...Z", optional fraction).
Result<TimePoint> ParseRfc3339(std::string_view text);

class ZoneTable;

class BusinessCalendar {
 public:
  // InvalidArgument naming the calendar and what to fix: unknown zone, windows out of order or
  // overlapping, no window in the whole week, an impossible date.
  static Result<BusinessCalendar> Create(const CalendarSpec& spec);

  // Closures come from events, so they change at run time. AddClosure refuses to > from and a
  // duplicate id; RemoveClosure of an unknown id is NotFound.
  Status AddClosure(Closure closure);
  Status RemoveClosure(std::string_view id);
  void ClearClosures();
  const std::vector<Closure>& closures() const { return closures_; }

  // Days outside the supported range are neither holidays nor business days.
  bool IsHoliday(std::chrono::year_month_day date) const;
  bool IsClosed(std::chrono::year_month_day date) const;
  bool IsBusinessDay(std::chrono::year_month_day date) const;

  bool IsBusinessTime(TimePoint t) const;
  // t itself when it is business time, else the opening of the next window.
  Result<TimePoint> NextOpening(TimePoint t) const;
  // Where counting starts for a receipt at t: the non-working-day receipt rule, then NextOpening.
  Result<TimePoint> EffectiveStart(TimePoint t) const;

  // The earliest instant at which `d` of business time has been counted since a receipt at t;
  // Add(t, 0) == t. InvalidArgument for a negative d or a result beyond the supported range.
  Result<TimePoint> AddBusiness(TimePoint t, Micros d) const;
  // The closing instant of the last window of the nth business day after the day of receipt.
  Result<TimePoint> AddBusinessDays(TimePoint t, int n) const;
  // The last microsecond (local) of the day n days after the day of receipt, moved forward to the
  // next business day when it is not one.
  Result<TimePoint> AddCalendarDays(TimePoint t, int n) const;
  Result<TimePoint> Add(TimePoint t, const CalendarTerm& term) const;

  // Business time counted from a receipt at t1 up to t2 (the same count AddBusiness uses, so
  // Elapsed(t, AddBusiness(t, d)) == d); zero when t2 <= t1.
  Result<Micros> Elapsed(TimePoint t1, TimePoint t2) const;
  // Raw business time inside [t1, t2), without the receipt rule; additive over adjacent ranges.
  Result<Micros> BusinessTimeBetween(TimePoint t1, TimePoint t2) const;

  // The local date of an instant, and the UTC instant of a local wall time (the earliest one when
  // the wall time happens twice, the end of the gap when it does not happen).
  Result<std::chrono::year_month_day> LocalDate(TimePoint t) const;
  Result<TimePoint> LocalToUtc(std::chrono::year_month_day date, std::chrono::minutes time) const;
  // RFC 3339 in the calendar's zone, with its offset: 2026-11-26T09:30:00+01:00.
  std::string FormatLocal(TimePoint t) const;

  const std::string& name() const { return name_; }
  const std::string& time_zone() const { return time_zone_; }
  // The supported local dates: 1970-01-02 to 2199-12-31 (or, for a zone whose tz file has no
  // usable rule for the years after its explicit data, to the end of that data).
  std::chrono::year_month_day first_date() const;
  std::chrono::year_month_day last_date() const;

 private:
  struct Span {
    int64_t begin;  // UTC microseconds since the epoch
    int64_t end;
  };
  struct Window {
    int64_t open;  // local microseconds after midnight
    int64_t close;
  };
  static constexpr int kMaxWindows = 24;

  BusinessCalendar() = default;
  void RebuildOff();
  bool InRange(int32_t day) const { return day >= first_day_ && day <= last_day_; }
  static bool Bit(const std::vector<uint64_t>& bits, int64_t i) {
    return (bits[static_cast<size_t>(i) / 64] >> (static_cast<size_t>(i) % 64)) & 1U;
  }
  bool Off(int32_t day) const { return Bit(off_bits_, day - first_day_); }  // holiday or closed
  bool WorkingDay(int32_t day) const { return Bit(working_bits_, day - first_day_); }
  bool PlainWeek(int32_t day, bool need_uniform) const;
  int DaySpans(int32_t day, Span* out) const;
  int64_t LocalToUtcMicros(int64_t local, bool earliest) const;
  Result<int32_t> LocalDay(int64_t utc) const;
  Result<int32_t> ReceiptDay(TimePoint t) const;
  Result<int64_t> NextOpeningMicros(int64_t utc) const;
  Result<int64_t> EffectiveStartMicros(int64_t utc) const;
  Result<int64_t> BetweenMicros(int64_t a, int64_t b) const;
  Status Beyond() const;

  std::string name_;
  std::string time_zone_;
  std::shared_ptr<const ZoneTable> zone_;
  int32_t first_day_ = 0;  // local day numbers: days since 1970-01-01
  int32_t last_day_ = 0;
  std::array<std::vector<Window>, 7> windows_;
  int64_t week_total_ = 0;  // business microseconds in a week with no holiday and no DST change
  int workdays_per_week_ = 0;
  std::optional<int64_t> receipt_;  // local microseconds after midnight
  std::vector<uint64_t> holiday_bits_;
  std::vector<uint64_t> off_bits_;      // holidays and closures
  std::vector<uint64_t> working_bits_;  // a window that weekday, and not off
  std::vector<Closure> closures_;
};

}  // namespace procedo
