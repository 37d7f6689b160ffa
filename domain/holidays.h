// Italian national holidays, computed for any year (art. 2 L. 260/1949 as amended, and L. 151/2025
// for 4 October).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace procedo::domain {

struct Holiday {
  std::chrono::year_month_day date;
  std::string name;  // Italian, as shown to citizens
};

// Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
std::chrono::year_month_day EasterSunday(int year);

// The national holidays of `year` in date order, Sundays aside. The list is the one in force
// today applied to every year; 4 October counts only from 2026, the year L. 151/2025 took effect.
std::vector<Holiday> ItalianNationalHolidays(int year);

inline constexpr int kSanFrancescoFirstYear = 2026;

}  // namespace procedo::domain
