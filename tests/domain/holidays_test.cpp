#include "domain/holidays.h"

#include <catch2/catch.hpp>

namespace procedo::domain {
namespace {

std::vector<std::string> Dates(int year) {
  std::vector<std::string> out;
  for (const auto& h : ItalianNationalHolidays(year)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(h.date.year()),
                  static_cast<unsigned>(h.date.month()), static_cast<unsigned>(h.date.day()));
    out.emplace_back(buf);
  }
  return out;
}

std::chrono::year_month_day D(int y, unsigned m, unsigned d) {
  return std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d};
}

}  // namespace

TEST_CASE("Easter Sunday of known years", "[holidays]") {
  CHECK(EasterSunday(2024) == D(2024, 3, 31));
  CHECK(EasterSunday(2025) == D(2025, 4, 20));
  CHECK(EasterSunday(2026) == D(2026, 4, 5));
  CHECK(EasterSunday(2027) == D(2027, 3, 28));
  CHECK(EasterSunday(2038) == D(2038, 4, 25));  // the latest possible date
  CHECK(EasterSunday(2285) == D(2285, 3, 22));  // the earliest possible date
}

TEST_CASE("national holidays of 2025, 2026 and 2027", "[holidays]") {
  // 2025: no San Francesco yet (L. 151/2025 is in force from 1 January 2026).
  CHECK(Dates(2025) == std::vector<std::string>{"2025-01-01", "2025-01-06", "2025-04-20",
                                                "2025-04-21", "2025-04-25", "2025-05-01",
                                                "2025-06-02", "2025-08-15", "2025-11-01",
                                                "2025-12-08", "2025-12-25", "2025-12-26"});
  CHECK(Dates(2026) == std::vector<std::string>{
                           "2026-01-01", "2026-01-06", "2026-04-05", "2026-04-06", "2026-04-25",
                           "2026-05-01", "2026-06-02", "2026-08-15", "2026-10-04", "2026-11-01",
                           "2026-12-08", "2026-12-25", "2026-12-26"});
  CHECK(Dates(2027) == std::vector<std::string>{
                           "2027-01-01", "2027-01-06", "2027-03-28", "2027-03-29", "2027-04-25",
                           "2027-05-01", "2027-06-02", "2027-08-15", "2027-10-04", "2027-11-01",
                           "2027-12-08", "2027-12-25", "2027-12-26"});
  const auto h = ItalianNationalHolidays(2027);
  auto monday = std::find_if(h.begin(), h.end(), [](auto& x) { return x.date == D(2027, 3, 29); });
  REQUIRE(monday != h.end());
  CHECK(monday->name == "Lunedì dell'Angelo");
}

TEST_CASE("Easter Monday is always the Monday after a Sunday between 22 Mar and 25 Apr",
          "[holidays]") {
  for (int y = 1970; y <= 2199; ++y) {
    const auto e = EasterSunday(y);
    INFO(y);
    CHECK(std::chrono::weekday{std::chrono::sys_days{e}} == std::chrono::Sunday);
    CHECK(e >= D(y, 3, 22));
    CHECK(e <= D(y, 4, 25));
    CHECK(ItalianNationalHolidays(y).size() == (y >= kSanFrancescoFirstYear ? 13U : 12U));
  }
}

}  // namespace procedo::domain
