// Business calendars as a projection sees them at an event: the domain's calendar for the tenant,
// with the service closures announced before that event. Closures are folded from the log into the
// projection's own rows (not only memory), so a projection restarted at its checkpoint computes
// with the same closures a rebuild from position 0 would.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "domain/calendars.h"
#include "engine/calendar/calendar.h"
#include "engine/views/view_store.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class CalendarSet {
 public:
  explicit CalendarSet(const domain::CalendarCatalog& catalog) : catalog_(catalog) {}

  // Call first with every event: folds calendar.closure_* events into the rows and forgets the
  // cache when positions go backwards (the projection was dropped and is rebuilding).
  Status Observe(const ParsedEvent& pe, ViewWriter& rows);
  // The calendar `id` for `tenant` with its closures; NotFound for an unknown id.
  Result<const BusinessCalendar*> Get(const std::string& id, const std::string& tenant,
                                      ViewWriter& rows);

 private:
  const domain::CalendarCatalog& catalog_;
  uint64_t last_position_ = 0;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<BusinessCalendar>> cache_;
};


}  // namespace procedo::projections

namespace procedo::projections {
// "YYYY-MM" of the local date of `t` in the calendar's time zone.
Result<std::string> LocalMonth(const BusinessCalendar& calendar, TimePoint t);
}  // namespace procedo::projections
