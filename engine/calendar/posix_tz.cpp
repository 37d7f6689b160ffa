#include "engine/calendar/posix_tz.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>

namespace procedo {
namespace {

// A cursor over a TZ string. Every reader consumes what it accepts and reports false otherwise.
class TzReader {
 public:
  explicit TzReader(std::string_view s) : s_(s) {}
  size_t pos() const { return i_; }
  bool done() const { return i_ == s_.size(); }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  // An abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'.
  bool Name() {
    auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    size_t n = 0;
    if (Eat('<')) {
      while (letter(peek()) || (peek() >= '0' && peek() <= '9') || peek() == '+' || peek() == '-') {
        ++i_;
        ++n;
      }
      return n >= 3 && Eat('>');
    }
    while (letter(peek())) {
      ++i_;
      ++n;
    }
    return n >= 3;
  }

  // A decimal number of at most three digits (every field of a TZ string fits) within [lo, hi].
  bool Number(int lo, int hi, int* out) {
    int v = 0;
    size_t n = 0;
    while (peek() >= '0' && peek() <= '9' && n < 3) {
      v = v * 10 + (s_[i_++] - '0');
      ++n;
    }
    if (n == 0 || (peek() >= '0' && peek() <= '9') || v < lo || v > hi) return false;
    *out = v;
    return true;
  }

  // [+-]hh[:mm[:ss]] in seconds, |hh| <= max_hours.
  bool Duration(int max_hours, int32_t* out) {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    int h = 0, m = 0, s = 0;
    if (!Number(0, max_hours, &h)) return false;
    if (Eat(':') && (!Number(0, 59, &m) || (Eat(':') && !Number(0, 59, &s)))) return false;
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
  }

  bool Rule(PosixTz::When* w) {
    using Kind = PosixTz::When::Kind;
    if (Eat('J')) {
      w->kind = Kind::kJulian;
      if (!Number(1, 365, &w->day)) return false;
    } else if (Eat('M')) {
      w->kind = Kind::kMonthWeek;
      if (!Number(1, 12, &w->month) || !Eat('.') || !Number(1, 5, &w->week) || !Eat('.') ||
          !Number(0, 6, &w->day)) {
        return false;
      }
    } else {
      w->kind = Kind::kZeroBased;
      if (!Number(0, 365, &w->day)) return false;
    }
    return !Eat('/') || Duration(167, &w->time);
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

int64_t DayNumber(std::chrono::year_month_day d) {
  return std::chrono::sys_days{d}.time_since_epoch().count();
}

// Days since the epoch of the day a rule names in year y.
int64_t RuleDay(const PosixTz::When& w, int y) {
  using namespace std::chrono;
  const year yr{y};
  switch (w.kind) {
    case PosixTz::When::Kind::kJulian:
      return DayNumber(yr / 1 / 1) + w.day - 1 + (yr.is_leap() && w.day >= 60 ? 1 : 0);
    case PosixTz::When::Kind::kZeroBased:
      return DayNumber(yr / 1 / 1) + w.day;
    case PosixTz::When::Kind::kMonthWeek:
    default: {
      const auto m = month{static_cast<unsigned>(w.month)};
      const int64_t first = DayNumber(yr / m / 1);
      const int64_t last = sys_days{yr / m / std::chrono::last}.time_since_epoch().count();
      const int wd = static_cast<int>(weekday{sys_days{days{first}}}.c_encoding());
      int64_t d = first + (w.day - wd + 7) % 7 + 7 * (w.week - 1);
      while (d > last) d -= 7;  // week 5 is the last such weekday, whether the month has 4 or 5
      return d;
    }
  }
}

uint64_t BigEndian32(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (size_t i = at; i < at + 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

// The size of the data block after a TZif header at `at` (RFC 8536 section 3.2), with
// `time_size`-byte transition times: 4 in the version 1 block, 8 in the version 2+ one.
uint64_t TzifBlockSize(const std::string& s, size_t at, uint64_t time_size) {
  const uint64_t isutcnt = BigEndian32(s, at + 20), isstdcnt = BigEndian32(s, at + 24);
  const uint64_t leapcnt = BigEndian32(s, at + 28), timecnt = BigEndian32(s, at + 32);
  const uint64_t typecnt = BigEndian32(s, at + 36), charcnt = BigEndian32(s, at + 40);
  return timecnt * (time_size + 1) + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstdcnt +
         isutcnt;
}

}  // namespace

Result<PosixTz> ParsePosixTz(std::string_view text) {
  TzReader r(text);
  auto bad = [&](const char* what) {
    return Status::InvalidArgument(
        fmt::format("POSIX TZ rule '{}': {} at character {}", text, what, r.pos() + 1));
  };
  PosixTz tz;
  int32_t west = 0;
  if (!r.Name()) return bad("expected a zone abbreviation (3+ letters, or <...>)");
  if (!r.Duration(24, &west)) return bad("expected a UTC offset ([+-]hh[:mm[:ss]])");
  tz.std_offset = -west;
  if (r.done()) return tz;
  if (!r.Name()) return bad("expected a DST abbreviation");
  tz.has_dst = true;
  tz.dst_offset = tz.std_offset + 3600;
  if (!r.done() && r.peek() != ',') {
    if (!r.Duration(24, &west)) return bad("expected a DST offset ([+-]hh[:mm[:ss]])");
    tz.dst_offset = -west;
  }
  // POSIX leaves a DST name without dates to the implementation; tzdata always writes them.
  if (!r.Eat(',')) return bad("expected ',' and the dates of the DST change");
  if (!r.Rule(&tz.dst_start)) return bad("expected Jn, n or Mm.w.d, and optionally /time");
  if (!r.Eat(',')) return bad("expected ',' and the end of DST");
  if (!r.Rule(&tz.dst_end)) return bad("expected Jn, n or Mm.w.d, and optionally /time");
  if (!r.done()) return bad("unexpected text");
  return tz;
}

std::vector<OffsetChange> PosixTzChanges(const PosixTz& tz, int first_year, int last_year) {
  struct Change {
    OffsetChange c;
    int order;  // at the same instant an end comes before a start
  };
  if (!tz.has_dst) return {};
  std::vector<Change> all;
  for (int y = first_year; y <= last_year; ++y) {
    const auto& s = tz.dst_start;
    const auto& e = tz.dst_end;
    all.push_back({{RuleDay(s, y) * 86'400 + s.time - tz.std_offset, tz.dst_offset}, 1});
    all.push_back({{RuleDay(e, y) * 86'400 + e.time - tz.dst_offset, tz.std_offset}, 0});
  }
  std::sort(all.begin(), all.end(), [](const Change& a, const Change& b) {
    return a.c.utc != b.c.utc ? a.c.utc < b.c.utc : a.order < b.order;
  });
  std::vector<OffsetChange> out;
  out.reserve(all.size());
  for (const auto& c : all) out.push_back(c.c);
  return out;
}

Result<std::string> ReadTzifFooter(const std::string& path) {
  // Real files are a few kilobytes; anything far larger is not one.
  constexpr std::streamsize kMaxSize = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  std::string data(static_cast<size_t>(kMaxSize) + 1, '\0');
  if (in) in.read(data.data(), kMaxSize + 1);
  if (!in && !in.eof()) {
    return Status::InvalidArgument(fmt::format("cannot read the tz data file {}", path));
  }
  data.resize(static_cast<size_t>(in.gcount()));
  auto bad = [&path](const char* why) {
    return Status::InvalidArgument(fmt::format("{} is not a valid TZif file: {}", path, why));
  };
  if (data.size() > static_cast<size_t>(kMaxSize)) return bad("larger than 1 MiB");
  constexpr size_t kHeader = 44;
  if (data.size() < kHeader || data.compare(0, 4, "TZif") != 0) return bad("no TZif header");
  if (data[4] == '\0') return std::string();
  const uint64_t second = kHeader + TzifBlockSize(data, 0, 4);
  if (data.size() < second + kHeader || data.compare(second, 4, "TZif") != 0) {
    return bad("no version 2+ header after the version 1 data");
  }
  const uint64_t footer = second + kHeader + TzifBlockSize(data, second, 8);
  if (footer >= data.size() || data[footer] != '\n') return bad("no footer after the data");
  const size_t end = data.find('\n', footer + 1);
  if (end == std::string::npos) return bad("the footer does not end with a newline");
  return data.substr(footer + 1, end - footer - 1);
}

}  // namespace procedo
