#include "domain/billing_periods.h"

#include <fmt/format.h>

#include "domain/accounts.h"
#include "engine/calendar/calendar.h"
#include "engine/calendar/calendar_zone.h"

namespace procedo::domain {
namespace {

using std::chrono::days;
using std::chrono::month_day;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

// The zone's table, or Rome's when the name is unknown: tenants.json was validated at load, so
// only a hand-made rule can miss, and a period must always have bounds.
std::shared_ptr<const ZoneTable> Zone(const BillingRule& rule) {
  auto table = ZoneTable::Get(rule.time_zone);
  if (table.ok()) return *table;
  return ZoneTable::Get(kDefaultTimeZone).value();
}

TimePoint LocalMidnight(year_month_day day, const BillingRule& rule) {
  const int64_t local =
      static_cast<int64_t>(sys_days(day).time_since_epoch().count()) * kMicrosPerDay;
  return TimePoint(Micros(Zone(rule)->LocalToUtc(local, /*earliest=*/true)));
}

// The school year a day falls in starts in the day's year or the one before; a start day that a
// year lacks (29 February) is taken as the last day of that month.
year_month_day SchoolYearStart(year y, const BillingRule& rule) {
  year_month_day start{y, rule.school_year_starts.month(), rule.school_year_starts.day()};
  if (!start.ok())
    start = year_month_day{std::chrono::year_month_day_last{
        y, std::chrono::month_day_last{rule.school_year_starts.month()}}};
  return start;
}

// The calendar year the school year holding `day` starts in.
year YearStartingSchoolYear(year_month_day day, const BillingRule& rule) {
  return day >= SchoolYearStart(day.year(), rule) ? day.year() : day.year() - std::chrono::years{1};
}

// The last day of the activities of the school year that starts in `starts_in`: the one day
// dated `school_year.ends` from its start to the next (the loader refuses an end on the start).
year_month_day SchoolYearEnd(year starts_in, const BillingRule& rule) {
  const auto on = [&](year y) {
    year_month_day d{y, rule.school_year_ends.month(), rule.school_year_ends.day()};
    return d.ok() ? d
                  : year_month_day{std::chrono::year_month_day_last{
                        y, std::chrono::month_day_last{rule.school_year_ends.month()}}};
  };
  const year_month_day same = on(starts_in);
  return same >= SchoolYearStart(starts_in, rule) ? same : on(starts_in + std::chrono::years{1});
}

BillingPeriod Month(year y, std::chrono::month m, const BillingRule& rule) {
  const year_month_day first{y, m, std::chrono::day{1}};
  const year_month_day next{
      sys_days(year_month_day{first.year() / first.month() / std::chrono::last}) + days{1}};
  return {PeriodKind::kMonth,
          fmt::format("{:04}-{:02}", static_cast<int>(y), static_cast<unsigned>(m)),
          LocalMidnight(first, rule), LocalMidnight(next, rule)};
}

BillingPeriod SchoolYear(year starts_in, const BillingRule& rule) {
  return {PeriodKind::kSchoolYear,
          fmt::format("{:04}/{:02}", static_cast<int>(starts_in),
                      (static_cast<int>(starts_in) + 1) % 100),
          LocalMidnight(SchoolYearStart(starts_in, rule), rule),
          LocalMidnight(SchoolYearStart(starts_in + std::chrono::years{1}, rule), rule)};
}

}  // namespace

BillingRule BillingRuleOf(const CalendarCatalog* calendars, const ServiceCatalogue* services,
                          std::string_view tenant) {
  BillingRule rule;
  if (calendars != nullptr) {
    if (const TenantCalendarInfo* info = calendars->FindTenant(tenant)) {
      rule.time_zone = info->time_zone;
    }
  }
  if (services != nullptr) {
    if (const TenantServices* t = services->ForTenant(std::string(tenant))) {
      rule.school_year_starts = t->school_year_starts;
      rule.school_year_ends = t->school_year_ends;
    }
  }
  return rule;
}

std::optional<year_month_day> LocalDayAt(TimePoint t, const BillingRule& rule) {
  const int64_t utc = t.time_since_epoch().count();
  const int64_t local = utc + int64_t{Zone(rule)->OffsetAt(utc)} * kMicrosPerSecond;
  return year_month_day(std::chrono::floor<days>(TimePoint(Micros(local))));
}

std::optional<year_month_day> LocalDayOf(std::string_view text, const BillingRule& rule) {
  if (text.size() == 10) return ParseDate(text);
  auto instant = ParseRfc3339(text);
  if (!instant.ok()) return std::nullopt;
  return LocalDayAt(*instant, rule);
}

BillingPeriod PeriodOf(year_month_day day, PeriodKind kind, const BillingRule& rule) {
  if (kind == PeriodKind::kMonth) return Month(day.year(), day.month(), rule);
  return SchoolYear(YearStartingSchoolYear(day, rule), rule);
}

std::optional<BillingPeriod> PeriodAt(TimePoint t, PeriodKind kind, const BillingRule& rule) {
  auto day = LocalDayAt(t, rule);
  if (!day) return std::nullopt;
  return PeriodOf(*day, kind, rule);
}

std::optional<BillingPeriod> ParsePeriod(std::string_view id, const BillingRule& rule) {
  auto digits = [id](size_t pos, size_t n) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (id[i] < '0' || id[i] > '9') return -1;
      v = v * 10 + (id[i] - '0');
    }
    return v;
  };
  if (id.size() != 7) return std::nullopt;
  const int y = digits(0, 4), rest = digits(5, 2);
  if (y < 1971 || y > 2198 || rest < 0) return std::nullopt;
  if (id[4] == '-' && rest >= 1 && rest <= 12) {
    return Month(year{y}, std::chrono::month{static_cast<unsigned>(rest)}, rule);
  }
  if (id[4] == '/' && rest == (y + 1) % 100) return SchoolYear(year{y}, rule);
  return std::nullopt;
}

std::string BillingPeriodOf(const std::string& date_or_instant, const BillingRule& rule) {
  auto day = LocalDayOf(date_or_instant, rule);
  return day ? PeriodOf(*day, PeriodKind::kMonth, rule).id : "";
}

BillingPeriod FirstPeriodBilled(year_month_day opened, PeriodKind kind, const BillingRule& rule) {
  if (kind != PeriodKind::kSchoolYear) return PeriodOf(opened, kind, rule);
  const year starts_in = YearStartingSchoolYear(opened, rule);
  if (opened > SchoolYearEnd(starts_in, rule)) {
    return SchoolYear(starts_in + std::chrono::years{1}, rule);
  }
  return SchoolYear(starts_in, rule);
}

bool CameDue(const BillingPeriod& p, const std::optional<BillingPeriod>& first, TimePoint now) {
  if (p.kind == PeriodKind::kMonth) return HasEnded(p, now);
  return HasBegun(p, now) || (first && first->id == p.id);
}

BillingPeriod NextPeriod(const BillingPeriod& p, const BillingRule& rule) {
  // The local day of the next one's start: local midnight plus the zone's offset at that instant.
  return PeriodOf(*LocalDayAt(p.ends, rule), p.kind, rule);
}

}  // namespace procedo::domain
