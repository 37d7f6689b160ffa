#include "domain/holidays.h"

#include <algorithm>

namespace procedo::domain {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

year_month_day Date(int y, unsigned m, unsigned d) {
  return year{y} / month{m} / day{d};
}

}  // namespace

year_month_day EasterSunday(int y) {
  const int a = y % 19;
  const int b = y / 100;
  const int c = y % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int mo = (h + l - 7 * m + 114) / 31;
  const int da = (h + l - 7 * m + 114) % 31 + 1;
  return Date(y, static_cast<unsigned>(mo), static_cast<unsigned>(da));
}

std::vector<Holiday> ItalianNationalHolidays(int y) {
  const auto easter = EasterSunday(y);
  const auto monday = year_month_day{std::chrono::sys_days{easter} + std::chrono::days{1}};
  std::vector<Holiday> out = {
      {Date(y, 1, 1), "Capodanno"},
      {Date(y, 1, 6), "Epifania"},
      {easter, "Pasqua"},
      {monday, "Lunedì dell'Angelo"},
      {Date(y, 4, 25), "Festa della Liberazione"},
      {Date(y, 5, 1), "Festa del Lavoro"},
      {Date(y, 6, 2), "Festa della Repubblica"},
      {Date(y, 8, 15), "Assunzione"},
      {Date(y, 11, 1), "Ognissanti"},
      {Date(y, 12, 8), "Immacolata Concezione"},
      {Date(y, 12, 25), "Natale"},
      {Date(y, 12, 26), "Santo Stefano"},
  };
  // L. 8 ottobre 2025 n. 151 (G.U. n. 236 del 10/10/2025), in force from 1 January 2026, added
  // "il 4 ottobre: festa nazionale di San Francesco d'Assisi, patrono d'Italia" to art. 2 of
  // L. 260/1949. Earlier years keep 4 October as a working day.
  if (y >= kSanFrancescoFirstYear) out.push_back({Date(y, 10, 4), "San Francesco d'Assisi"});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.date < b.date; });
  return out;
}

}  // namespace procedo::domain
