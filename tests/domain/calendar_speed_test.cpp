// Hidden (run with `calendar_tests "[.speed]"`): deadline computations per second against plain
// TimePoint additions, the physical floor, in the same run.
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <random>

#include "domain/calendars.h"

namespace procedo::domain {

TEST_CASE("deadline computation speed", "[.speed]") {
  auto catalog = CalendarCatalog::LoadDomain(PROCEDO_SOURCE_DIR "/domain");
  REQUIRE(catalog.ok());
  auto cal = catalog->Build("helpdesk", "comune-forli");
  REQUIRE(cal.ok());
  constexpr int kN = 1'000'000;
  std::mt19937_64 rng(42);
  std::vector<TimePoint> from(kN);
  std::vector<Micros> add(kN);
  const int64_t lo = 1767225600LL * 1'000'000;  // 2026-01-01
  for (int i = 0; i < kN; ++i) {
    from[i] = TimePoint(Micros(lo + static_cast<int64_t>(rng() % (3LL * 365 * 86400)) * 1'000'000));
    add[i] = std::chrono::minutes(1 + rng() % (8 * 60));  // up to a day of business time
  }
  using Clock = std::chrono::steady_clock;
  auto rate = [](Clock::duration d) { return kN / std::chrono::duration<double>(d).count(); };

  int64_t sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kN; ++i) sink += (from[i] + add[i]).time_since_epoch().count();
  auto plain = Clock::now() - t0;

  t0 = Clock::now();
  for (int i = 0; i < kN; ++i)
    sink += cal->AddBusiness(from[i], add[i])->time_since_epoch().count();
  auto business = Clock::now() - t0;

  t0 = Clock::now();
  for (int i = 0; i < kN; ++i) {
    sink += cal->AddBusinessDays(from[i], 1 + static_cast<int>(i % 7))->time_since_epoch().count();
  }
  auto days = Clock::now() - t0;

  t0 = Clock::now();
  for (int i = 0; i < kN; ++i) {
    sink += cal->Elapsed(from[i], from[i] + std::chrono::hours(1 + i % 72))->count();
  }
  auto elapsed = Clock::now() - t0;

  std::cout << "plain additions:      " << rate(plain) / 1e6 << " M/s\n"
            << "AddBusiness:          " << rate(business) / 1e6 << " M/s\n"
            << "AddBusinessDays 1-7:  " << rate(days) / 1e6 << " M/s\n"
            << "Elapsed up to 72 h:   " << rate(elapsed) / 1e6 << " M/s\n"
            << "(checksum " << sink << ")\n";
  CHECK(sink != 0);
}

}  // namespace procedo::domain
