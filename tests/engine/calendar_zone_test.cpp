// The zone table past the end of the explicit tz data (2037 in Debian's files): offsets and
// local-to-UTC conversions to 2199, against hand-worked instants and against the changes Python's
// zoneinfo computes (tz_transitions.txt, which the build makes with tests/engine/tz_transitions.py).
#include "engine/calendar/calendar_zone.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/calendar/calendar.h"

namespace procedo {
namespace {

constexpr int64_t kHour = 3600 * kMicrosPerSecond;

int32_t Day(int y, unsigned m, unsigned d) {
  const std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{m} / d};
  return static_cast<int32_t>(day.time_since_epoch().count());
}

// Microseconds since the epoch of a wall time `y-m-d h:min` read as UTC.
int64_t At(int y, unsigned m, unsigned d, int h, int min = 0) {
  return int64_t{Day(y, m, d)} * kMicrosPerDay + h * kHour + min * 60 * kMicrosPerSecond;
}

std::shared_ptr<const ZoneTable> Zone(const char* name) {
  auto z = ZoneTable::Get(name);
  INFO(z.status().ToString());
  REQUIRE(z.ok());
  return *z;
}

// One zone's list: the offset at 2030-01-01T00:00:00Z, then (UTC microseconds, offset from then
// on).
struct Expected {
  int32_t initial = 0;
  std::vector<std::pair<int64_t, int32_t>> changes;
  int32_t At(int64_t utc) const {
    auto it = std::upper_bound(changes.begin(), changes.end(), std::make_pair(utc, INT32_MAX));
    return it == changes.begin() ? initial : std::prev(it)->second;
  }
};

int32_t ParseOffset(const std::string& s) {  // +hh:mm
  const int32_t v = std::stoi(s.substr(1, 2)) * 3600 + std::stoi(s.substr(4, 2)) * 60;
  return s[0] == '-' ? -v : v;
}

std::map<std::string, Expected> ReadExpected() {
  std::ifstream in(PROCEDO_TZ_TRANSITIONS);
  REQUIRE(in);
  std::map<std::string, Expected> zones;
  Expected* z = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string a, b, c;
    f >> a >> b;
    if (a == "zone") {
      f >> c;
      z = &zones[b];
      z->initial = ParseOffset(c);
      continue;
    }
    REQUIRE(z != nullptr);
    REQUIRE(a.size() == 20);  // 2030-03-31T01:00:00Z
    const int64_t t =
        At(std::stoi(a.substr(0, 4)), std::stoul(a.substr(5, 2)), std::stoul(a.substr(8, 2)),
           std::stoi(a.substr(11, 2)), std::stoi(a.substr(14, 2))) +
        std::stoi(a.substr(17, 2)) * kMicrosPerSecond;
    z->changes.emplace_back(t, ParseOffset(b));
  }
  return zones;
}

}  // namespace

TEST_CASE("Rome's DST after 2037 follows the footer's rule", "[calendar][tz]") {
  auto rome = Zone("Europe/Rome");
  CHECK(rome->last_day() == Day(2199, 12, 31));
  // Last Sunday of March at 02:00 CET (01:00Z) -> 03:00 CEST; last Sunday of October at 03:00
  // CEST (01:00Z) -> 02:00 CET. The Sundays: 2038: 28 Mar, 31 Oct; 2050: 27 Mar, 30 Oct;
  // 2100: 28 Mar, 31 Oct; 2199: 31 Mar, 27 Oct.
  const int spring[][3] = {{2038, 3, 28}, {2050, 3, 27}, {2100, 3, 28}, {2199, 3, 31}};
  const int autumn[][3] = {{2038, 10, 31}, {2050, 10, 30}, {2100, 10, 31}, {2199, 10, 27}};
  for (const auto& d : spring) {
    const int64_t t = At(d[0], d[1], d[2], 1);
    INFO(d[0] << "-" << d[1] << "-" << d[2]);
    CHECK(rome->OffsetAt(t - 1) == 3600);
    CHECK(rome->OffsetAt(t) == 7200);
    CHECK(rome->UniformOffset(Day(d[0], d[1], d[2])) == ZoneTable::kNotUniform);
    CHECK(rome->OffsetAt(At(d[0], d[1], d[2] - 7, 12)) == 3600);  // the Sunday before
  }
  for (const auto& d : autumn) {
    const int64_t t = At(d[0], d[1], d[2], 1);
    INFO(d[0] << "-" << d[1] << "-" << d[2]);
    CHECK(rome->OffsetAt(t - 1) == 7200);
    CHECK(rome->OffsetAt(t) == 3600);
    CHECK(rome->OffsetAt(At(d[0], d[1], d[2] - 7, 12)) == 7200);
  }
  CHECK(rome->UniformOffset(Day(2100, 7, 1)) == 7200);
  CHECK(rome->UniformOffset(Day(2199, 12, 31)) == 3600);
  // The last explicit changes in Debian's file and the first ones of the rule meet without a seam.
  CHECK(rome->OffsetAt(At(2037, 10, 25, 1) - 1) == 7200);
  CHECK(rome->OffsetAt(At(2037, 10, 25, 1)) == 3600);
  CHECK(rome->OffsetAt(At(2037, 12, 31, 23)) == 3600);
  CHECK(rome->OffsetAt(At(2038, 1, 1, 12)) == 3600);
}

TEST_CASE("LocalToUtc from the table: gaps, repeated hours, unique times", "[calendar][tz]") {
  auto rome = Zone("Europe/Rome");
  // 25 Mar 2040: 02:00-03:00 does not happen; every wall time in it maps to the change, 01:00Z.
  CHECK(rome->LocalToUtc(At(2040, 3, 25, 2, 30), true) == At(2040, 3, 25, 1));
  CHECK(rome->LocalToUtc(At(2040, 3, 25, 2, 30), false) == At(2040, 3, 25, 1));
  CHECK(rome->LocalToUtc(At(2040, 3, 25, 2), true) == At(2040, 3, 25, 1));
  // 03:00 CEST, the first wall time after the gap.
  CHECK(rome->LocalToUtc(At(2040, 3, 25, 3), true) == At(2040, 3, 25, 1));
  CHECK(rome->LocalToUtc(At(2040, 3, 25, 2) - 1, true) == At(2040, 3, 25, 1) - 1);  // 01:59:59.9
  // 28 Oct 2040: 02:00-03:00 happens twice, at 00:00Z-01:00Z (CEST) and 01:00Z-02:00Z (CET).
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 2, 30), true) == At(2040, 10, 28, 0, 30));
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 2, 30), false) == At(2040, 10, 28, 1, 30));
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 2), true) == At(2040, 10, 28, 0));
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 2), false) == At(2040, 10, 28, 1));
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 3), true) == At(2040, 10, 28, 2));  // once: CET
  CHECK(rome->LocalToUtc(At(2040, 10, 28, 3) - 1, false) == At(2040, 10, 28, 2) - 1);
  // Unique times on either side of the year and of the explicit data.
  CHECK(rome->LocalToUtc(At(2040, 7, 1, 12), false) == At(2040, 7, 1, 10));
  CHECK(rome->LocalToUtc(At(2037, 12, 31, 23, 59), true) == At(2037, 12, 31, 22, 59));
  CHECK(rome->LocalToUtc(At(2026, 3, 29, 2, 30), true) == At(2026, 3, 29, 1));
  CHECK(rome->LocalToUtc(At(2026, 10, 25, 2, 30), false) == At(2026, 10, 25, 1, 30));
  // Nuuk's spring change is at -1:00, so the wall time that is skipped is Saturday's 23:xx.
  auto nuuk = Zone("America/Nuuk");
  CHECK(nuuk->LocalToUtc(At(2040, 3, 24, 23, 30), true) == At(2040, 3, 25, 1));
  CHECK(nuuk->LocalToUtc(At(2040, 3, 25, 0, 30), true) == At(2040, 3, 25, 1, 30));

  // Links (symlinks in Debian's tree) read the footer of the zone they name.
  CHECK(Zone("Europe/Vatican")->OffsetAt(At(2100, 7, 1, 12)) == 7200);
  CHECK(Zone("UTC")->OffsetAt(At(2100, 7, 1, 12)) == 0);

  auto bad = ZoneTable::Get("Europe/Atlantis");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().IsInvalidArgument());
  CHECK_THAT(bad.status().message(), Catch::Contains("IANA"));
}

TEST_CASE("every offset 2030-2199 agrees with Python's zoneinfo", "[calendar][tz]") {
  const auto zones = ReadExpected();
  REQUIRE(zones.size() >= 8);
  for (const auto& [name, want] : zones) {
    INFO(name);
    auto zone = Zone(name.c_str());
    REQUIRE(want.changes.size() >= 100);
    // Each change at its instant, and each wall time it skips or repeats.
    int32_t before = want.initial;
    for (const auto& [t, after] : want.changes) {
      INFO("change at " << t / kMicrosPerSecond << " to " << after);
      CHECK(zone->OffsetAt(t - 1) == before);
      CHECK(zone->OffsetAt(t) == after);
      const int64_t lo = t + int64_t{std::min(before, after)} * kMicrosPerSecond;
      const int64_t mid = lo + int64_t{std::abs(after - before)} * kMicrosPerSecond / 2;
      if (after > before) {
        CHECK(zone->LocalToUtc(mid, true) == t);
      } else {
        CHECK(zone->LocalToUtc(mid, true) == mid - int64_t{before} * kMicrosPerSecond);
        CHECK(zone->LocalToUtc(mid, false) == mid - int64_t{after} * kMicrosPerSecond);
      }
      before = after;
    }
    // Every hour, and local noon of every day: whatever changes the list missed would show here.
    int mismatches = 0;
    std::string first;
    for (int64_t u = At(2030, 1, 1, 0); u < At(2200, 1, 1, 0); u += kHour) {
      if (zone->OffsetAt(u) != want.At(u) && mismatches++ == 0) {
        first = "offset at " + std::to_string(u / kMicrosPerSecond);
      }
    }
    for (int32_t d = Day(2030, 1, 2); d <= Day(2199, 12, 31); ++d) {
      const int64_t noon = int64_t{d} * kMicrosPerDay + 12 * kHour;
      const int64_t u = zone->LocalToUtc(noon, true);
      const int32_t off = want.At(u);
      if ((u + int64_t{off} * kMicrosPerSecond != noon || zone->OffsetAt(u) != off ||
           (zone->UniformOffset(d) != ZoneTable::kNotUniform && zone->UniformOffset(d) != off)) &&
          mismatches++ == 0) {
        first = "local noon of day " + std::to_string(d);
      }
    }
    INFO("first mismatch: " << first);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("calendars work to 2199, DST days included", "[calendar][tz]") {
  CalendarSpec s;
  s.name = "always";
  s.time_zone = "Europe/Rome";
  for (auto& w : s.windows) w = {{std::chrono::hours(0), std::chrono::hours(24)}};
  auto c = BusinessCalendar::Create(s);
  REQUIRE(c.ok());
  const auto t = [](const char* text) { return *ParseRfc3339(text); };
  using std::chrono::hours;
  CHECK(c->last_date() == std::chrono::year{2199} / 12 / 31);
  // The DST days have 23 and 25 hours in 2100 as in 2026.
  CHECK(*c->BusinessTimeBetween(t("2100-03-28T00:00:00+01:00"), t("2100-03-29T00:00:00+02:00")) ==
        hours(23));
  CHECK(*c->BusinessTimeBetween(t("2100-10-31T00:00:00+02:00"), t("2100-11-01T00:00:00+01:00")) ==
        hours(25));
  CHECK(c->FormatLocal(t("2199-07-01T10:00:00Z")) == "2199-07-01T12:00:00+02:00");
  CHECK(c->FormatLocal(t("2199-12-31T22:59:59Z")) == "2199-12-31T23:59:59+01:00");
  CHECK(*c->LocalToUtc(std::chrono::year{2040} / 3 / 25, std::chrono::minutes(150)) ==
        t("2040-03-25T03:00:00+02:00"));
  CHECK(*c->LocalToUtc(std::chrono::year{2040} / 10 / 28, std::chrono::minutes(150)) ==
        t("2040-10-28T02:30:00+02:00"));
  // Past the cap is still an error that names the range.
  auto r = c->AddCalendarDays(t("2199-12-01T12:00:00+01:00"), 60);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("2199-12-31"));
}

}  // namespace procedo
