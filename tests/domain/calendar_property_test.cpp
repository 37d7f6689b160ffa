// Properties over random instants and durations on the shipped calendars. The seed is printed;
// rerun a failure with PROCEDO_CALENDAR_SEED=<seed>.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <iostream>
#include <random>

#include "domain/calendars.h"

namespace procedo::domain {
namespace {

using namespace std::chrono_literals;

struct Case {
  const char* calendar;
  const char* tenant;
};
constexpr Case kCases[] = {
    {"helpdesk", "comune-milano"}, {"support", ""}, {"assistance", "comune-aosta"}, {"always", ""}};

uint32_t Seed() {
  static const uint32_t seed = [] {
    const char* env = std::getenv("PROCEDO_CALENDAR_SEED");
    uint32_t s =
        env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
    std::cout << "calendar properties: seed " << s << " (rerun with PROCEDO_CALENDAR_SEED=" << s
              << ")\n";
    return s;
  }();
  return seed;
}

BusinessCalendar Build(const Case& c) {
  static const CalendarCatalog catalog = *CalendarCatalog::LoadDomain(PROCEDO_SOURCE_DIR "/domain");
  auto cal = catalog.Build(c.calendar, c.tenant);
  REQUIRE(cal.ok());
  // Closures too, so that closed days are part of what the properties walk over.
  const auto y = std::chrono::year{2027};
  REQUIRE(cal->AddClosure({"summer", y / 8 / 9, y / 8 / 13, ""}).ok());
  REQUIRE(cal->AddClosure({"winter", y / 12 / 27, y / 12 / 31, ""}).ok());
  return *cal;
}

// Instants at microsecond precision: half from 2025 to mid-2036, where the closures are, half from
// there to 2190, where the DST changes come from the tz files' footer rule; every deadline stays
// inside the supported range (to 2199).
TimePoint RandomInstant(std::mt19937& rng) {
  const int64_t lo = 1735689600LL * 1'000'000;   // 2025-01-01T00:00:00Z
  const int64_t mid = 2096496000LL * 1'000'000;  // 2036-06-07T00:00:00Z
  const int64_t hi = 6942585600LL * 1'000'000;   // 2190-01-01T00:00:00Z
  const bool early = rng() % 2 == 0;
  std::uniform_int_distribution<int64_t> d(early ? lo : mid, early ? mid : hi);
  int64_t t = d(rng);
  if (rng() % 2) t -= t % 60'000'000;  // half on whole minutes: window edges get hit
  return TimePoint(Micros(t));
}

Micros RandomDuration(std::mt19937& rng) {
  switch (rng() % 4) {
    case 0:
      return Micros(0);
    case 1:
      return std::chrono::minutes(rng() % 600);
    case 2:
      return std::chrono::minutes(rng() % 20'000);
    default:
      return Micros(std::uniform_int_distribution<int64_t>(1, 200LL * 3600 * 1'000'000)(rng));
  }
}

}  // namespace

TEST_CASE("add(add(t,a),b) == add(t,a+b); elapsed(t, add(t,d)) == d; monotonic in d",
          "[calendar][properties]") {
  std::mt19937 rng(Seed());
  for (const auto& c : kCases) {
    const auto cal = Build(c);
    for (int i = 0; i < 3000; ++i) {
      const auto t = RandomInstant(rng);
      const auto a = RandomDuration(rng);
      const auto b = RandomDuration(rng);
      INFO(c.calendar << " t=" << cal.FormatLocal(t) << " a=" << a.count() << "us b=" << b.count()
                      << "us");
      auto ta = cal.AddBusiness(t, a);
      auto tab = cal.AddBusiness(t, a + b);
      REQUIRE(ta.ok());
      REQUIRE(tab.ok());
      auto chained = cal.AddBusiness(*ta, b);
      REQUIRE(chained.ok());
      CHECK(*chained == *tab);
      CHECK(*cal.Elapsed(t, *ta) == a);
      CHECK(*cal.Elapsed(t, *tab) == a + b);
      CHECK(*ta >= t);
      CHECK(*ta <= *tab);
      if (a > 0us) CHECK(cal.IsBusinessTime(*ta - 1us));
    }
  }
}

TEST_CASE("business time between instants is additive and never negative",
          "[calendar][properties]") {
  std::mt19937 rng(Seed() + 1);
  for (const auto& c : kCases) {
    const auto cal = Build(c);
    for (int i = 0; i < 2000; ++i) {
      auto x = RandomInstant(rng);
      auto span = std::chrono::minutes(rng() % 30'000);
      auto y = x + span;
      auto z = y + std::chrono::minutes(rng() % 30'000);
      INFO(c.calendar << " x=" << cal.FormatLocal(x));
      CHECK(*cal.BusinessTimeBetween(x, y) + *cal.BusinessTimeBetween(y, z) ==
            *cal.BusinessTimeBetween(x, z));
      CHECK(*cal.BusinessTimeBetween(y, x) == 0us);
      CHECK(*cal.BusinessTimeBetween(x, y) <= span);
    }
  }
}

TEST_CASE("business time matches a minute-by-minute count", "[calendar][properties]") {
  std::mt19937 rng(Seed() + 2);
  for (const auto& c : kCases) {
    const auto cal = Build(c);
    for (int i = 0; i < 60; ++i) {
      auto x = RandomInstant(rng);
      x -= x.time_since_epoch() % std::chrono::minutes(1);
      const int span = static_cast<int>(rng() % (14 * 24 * 60));
      int64_t minutes = 0;
      for (int m = 0; m < span; ++m) minutes += cal.IsBusinessTime(x + std::chrono::minutes(m));
      INFO(c.calendar << " x=" << cal.FormatLocal(x) << " span=" << span << "min");
      CHECK(*cal.BusinessTimeBetween(x, x + std::chrono::minutes(span)) ==
            std::chrono::minutes(minutes));
    }
  }
}

TEST_CASE("day terms land on business days and grow with n", "[calendar][properties]") {
  std::mt19937 rng(Seed() + 3);
  for (const auto& c : kCases) {
    const auto cal = Build(c);
    for (int i = 0; i < 1500; ++i) {
      const auto t = RandomInstant(rng);
      const int n = 1 + static_cast<int>(rng() % 40);
      INFO(c.calendar << " t=" << cal.FormatLocal(t) << " n=" << n);
      auto bd = cal.AddBusinessDays(t, n);
      auto bd1 = cal.AddBusinessDays(t, n + 1);
      auto cd = cal.AddCalendarDays(t, n);
      auto cd1 = cal.AddCalendarDays(t, n + 1);
      REQUIRE((bd.ok() && bd1.ok() && cd.ok() && cd1.ok()));
      CHECK(*bd > t);
      CHECK(*bd < *bd1);
      CHECK(*cd > t);
      CHECK(*cd <= *cd1);
      // The deadline closes a business day (its last business microsecond is just before it).
      CHECK(cal.IsBusinessTime(*bd - 1us));
      if (c.calendar != std::string("always")) CHECK_FALSE(cal.IsBusinessTime(*bd));
      CHECK(cal.IsBusinessDay(*cal.LocalDate(*cd)));
      CHECK_FALSE(cal.LocalDate(*cd + 1us)->day() == cal.LocalDate(*cd)->day());
      // n business days are at least n - 1 whole business days of business time after receipt.
      CHECK(*cal.BusinessTimeBetween(t, *bd) > 0us);
    }
  }
}

}  // namespace procedo::domain
