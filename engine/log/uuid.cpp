#include "engine/log/uuid.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>

namespace procedo {

UuidV7Generator::UuidV7Generator(const Clock& clock) : clock_(clock), rng_(std::random_device{}()) {}

Uuid UuidV7Generator::Next() {
  std::lock_guard lock(mu_);
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   clock_.Now().time_since_epoch()).count();
  if (ms > last_ms_) {
    last_ms_ = ms;
    counter_ = static_cast<uint16_t>(rng_() & 0x3ff);  // leave headroom for the counter
  } else {
    ms = last_ms_;  // a clock that steps back must not reorder ids
    if (++counter_ > 0xfff) {
      ++last_ms_;
      ms = last_ms_;
      counter_ = 0;
    }
  }
  Uuid u{};
  for (int i = 0; i < 6; ++i) u[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  u[6] = static_cast<uint8_t>(0x70 | ((counter_ >> 8) & 0x0f));
  u[7] = static_cast<uint8_t>(counter_ & 0xff);
  uint64_t r = rng_();
  u[8] = static_cast<uint8_t>(0x80 | ((r >> 56) & 0x3f));
  for (int i = 9; i < 16; ++i) u[i] = static_cast<uint8_t>(r >> (8 * (15 - i)));
  return u;
}

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";
}  // namespace

std::string UuidToString(const Uuid& id) {
  const char* hex = kHexDigits;
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[id[i] >> 4]);
    s.push_back(hex[id[i] & 0xf]);
  }
  return s;
}

std::optional<Uuid> UuidFromString(const std::string& text) {
  if (text.size() != 36) return std::nullopt;
  Uuid u{};
  size_t j = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    u[j / 2] = static_cast<uint8_t>(u[j / 2] | (j % 2 == 0 ? v << 4 : v));
    ++j;
  }
  return u;
}

std::string HashToHex(const Hash& h) {
  // Every event of an answer, a view's audit trail and the relay's headers shows two hashes: a
  // table, not a formatted string per byte.
  std::string s(h.size() * 2, '\0');
  for (size_t i = 0; i < h.size(); ++i) {
    s[2 * i] = kHexDigits[h[i] >> 4];
    s[2 * i + 1] = kHexDigits[h[i] & 0xf];
  }
  return s;
}

std::string FormatTime(TimePoint t) {
  // Civil arithmetic on the microsecond clock itself: fmt's chrono formatting goes through the
  // system clock's nanoseconds, which overflow after 2262, and any instant a client may send
  // (as_of in year 9999) must print.
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss<Micros> time{t - day};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z", int{date.year()},
                     unsigned{date.month()}, unsigned{date.day()}, time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

}  // namespace procedo
