// Billing periods of periodic positions (seed 003's "fatturazione periodica"), judged in the
// Ente's local time: the month of a use, the school year of a date, when a period begins and ends
// and whether it has ended. The movement decider, the invoice decider and the invoicing reactor
// all ask here; nothing else computes a period.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/calendars.h"
#include "domain/services.h"
#include "engine/base/clock.h"

namespace procedo::domain {

// Where the Ente's billing periods lie: its time zone (tenants.json `time_zone`) and the day its
// school year starts (the services catalogue's `school_year.starts`).
struct BillingRule {
  std::string time_zone = kDefaultTimeZone;
  std::chrono::month_day school_year_starts = kDefaultSchoolYearStart;
  std::chrono::month_day school_year_ends = kDefaultSchoolYearEnd;
};

// The tenant's rule: its zone from `calendars`, its school year from `services` (either null or
// without the tenant: the defaults).
BillingRule BillingRuleOf(const CalendarCatalog* calendars, const ServiceCatalogue* services,
                          std::string_view tenant);

enum class PeriodKind { kMonth, kSchoolYear };

struct BillingPeriod {
  PeriodKind kind = PeriodKind::kMonth;
  std::string id;    // "2026-01" (a month) or "2026/27" (a school year)
  TimePoint begins;  // local midnight of its first day
  TimePoint ends;    // local midnight of the first day after it
};

// The local day of a use: "YYYY-MM-DD" is taken as the Ente's own day; an RFC 3339 instant
// (2026-01-31T23:30:00Z) counts on the local day it falls on. Nullopt: neither, or no such day.
std::optional<std::chrono::year_month_day> LocalDayOf(std::string_view date_or_instant,
                                                      const BillingRule& rule);
std::optional<std::chrono::year_month_day> LocalDayAt(TimePoint t, const BillingRule& rule);

// The period of `kind` a local day belongs to.
BillingPeriod PeriodOf(std::chrono::year_month_day day, PeriodKind kind, const BillingRule& rule);
// The period of `kind` that holds at instant `t`.
std::optional<BillingPeriod> PeriodAt(TimePoint t, PeriodKind kind, const BillingRule& rule);
// A period from its id ("2026-01", "2026/27"); nullopt for anything else.
std::optional<BillingPeriod> ParsePeriod(std::string_view id, const BillingRule& rule);
// The period after `p`.
BillingPeriod NextPeriod(const BillingPeriod& p, const BillingRule& rule);

// The first period of `kind` a position opened on local day `opened` is billed for: the period
// that holds the day, except for a school year: a position opened in the summer break (after the
// day the school year's activities end, `school_year.ends`, and before the next start) is for
// the coming school year, whose fees it is admitted to pay; the ending one is over for it.
BillingPeriod FirstPeriodBilled(std::chrono::year_month_day opened, PeriodKind kind,
                                const BillingRule& rule);

// Whether period `p` of a position whose first billed period is `first` has come due at `now`:
// a month once it has ended; a school year from its first day, and the first one from the
// admission itself (a fee due at admission, even when the year starts after the summer).
bool CameDue(const BillingPeriod& p, const std::optional<BillingPeriod>& first, TimePoint now);

// Over at `now` in local time: a month once its last day has passed in the Ente's zone.
inline bool HasEnded(const BillingPeriod& p, TimePoint now) {
  return now >= p.ends;
}
inline bool HasBegun(const BillingPeriod& p, TimePoint now) {
  return now >= p.begins;
}

}  // namespace procedo::domain
