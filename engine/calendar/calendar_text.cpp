// The text forms calendars are used with: terms ("30m", "3bd", "20d") and RFC 3339 instants.
#include <fmt/format.h>

#include <charconv>

#include "engine/calendar/calendar.h"

namespace procedo {
namespace {

constexpr const char* kTermHelp =
    "write a whole number and a unit: 45s, 30m, 6h (business time), 3bd (business days), 20d "
    "(calendar days)";

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<CalendarTerm> ParseTerm(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  int64_t amount = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, amount);
  (void)ptr;
  const std::string_view unit = text.substr(i);
  if (i == 0 || ec != std::errc() || unit.empty()) {
    return Status::InvalidArgument(fmt::format("bad term '{}': {}", text, kTermHelp));
  }
  // Bounds keep every term far inside the supported calendar range and int arithmetic.
  CalendarTerm t;
  if (unit == "bd" || unit == "d") {
    if (amount < 1 || amount > 100'000) {
      return Status::InvalidArgument(
          fmt::format("bad term '{}': a day count must be between 1 and 100000", text));
    }
    t.kind = unit == "bd" ? CalendarTerm::Kind::kBusinessDays : CalendarTerm::Kind::kCalendarDays;
    t.days = static_cast<int>(amount);
    return t;
  }
  int64_t seconds_per_unit = 0;
  if (unit == "s") seconds_per_unit = 1;
  if (unit == "m") seconds_per_unit = 60;
  if (unit == "h") seconds_per_unit = 3600;
  if (seconds_per_unit == 0) {
    return Status::InvalidArgument(
        fmt::format("bad term '{}': unknown unit '{}'; {}", text, unit, kTermHelp));
  }
  if (amount > 1'000'000'000 / seconds_per_unit) {
    return Status::InvalidArgument(
        fmt::format("bad term '{}': at most 1000000000 seconds of business time", text));
  }
  t.kind = CalendarTerm::Kind::kBusinessTime;
  t.business_time = std::chrono::seconds(amount * seconds_per_unit);
  return t;
}

std::string FormatTerm(const CalendarTerm& term) {
  switch (term.kind) {
    case CalendarTerm::Kind::kBusinessDays:
      return fmt::format("{}bd", term.days);
    case CalendarTerm::Kind::kCalendarDays:
      return fmt::format("{}d", term.days);
    case CalendarTerm::Kind::kBusinessTime:
    default: {
      const int64_t s =
          std::chrono::duration_cast<std::chrono::seconds>(term.business_time).count();
      if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
      if (s % 60 == 0) return fmt::format("{}m", s / 60);
      return fmt::format("{}s", s);
    }
  }
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [s](const char* why) {
    return Status::InvalidArgument(fmt::format(
        "bad time '{}': {}; write RFC 3339 with an offset, e.g. 2026-11-26T09:30:00+01:00 or "
        "2026-11-26T08:30:00Z",
        s, why));
  };
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return bad("not of the form YYYY-MM-DDTHH:MM:SS");
  }
  const std::chrono::year_month_day date{std::chrono::year{y},
                                         std::chrono::month{static_cast<unsigned>(mo)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return bad("no such date");
  if (h > 23 || mi > 59 || sec > 59) return bad("no such time of day");
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    size_t digits = 0;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits) {
      if (digits >= 6) return bad("more than 6 fractional digits (microseconds)");
      micros = micros * 10 + (s[pos] - '0');
    }
    if (digits == 0) return bad("a '.' with no fractional digits");
    for (size_t k = digits; k < 6; ++k) micros *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad("the offset must be Z or +HH:MM / -HH:MM");
    }
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad("the offset is missing (Z or +HH:MM)");
  }
  if (pos != s.size()) return bad("unexpected text after the offset");
  const auto local = std::chrono::sys_days{date} + std::chrono::hours{h} +
                     std::chrono::minutes{mi - offset_minutes} + std::chrono::seconds{sec};
  return TimePoint(std::chrono::duration_cast<Micros>(local.time_since_epoch()) + Micros(micros));
}

}  // namespace procedo
