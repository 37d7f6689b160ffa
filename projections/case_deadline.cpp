// The deadline of a case's term. Deliberately simple and documented in projections/README.md:
// the term counted from the start with the catalogue entry's calendar, then pushed back by the
// time the case spent suspended, measured the way the term is (wall time for calendar-day terms,
// business time for business-day terms).
#include <fmt/format.h>

#include "projections/case_view.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

Result<TimePoint> TimeField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return Status::InvalidArgument(fmt::format("'{}' is missing", key));
  }
  return ParseRfc3339(it->get<std::string>());
}

}  // namespace

Status ComputeDeadline(const BusinessCalendar& calendar, json& view) {
  auto term = TermFromTarget(view["term"].value("target", ""));
  if (!term.ok()) return term.status();
  auto start = TimeField(view, "started_at");
  if (!start.ok()) return start.status();
  auto expected = calendar.Add(*start, *term);
  if (!expected.ok()) return expected.status();
  const bool calendar_days = term->kind == CalendarTerm::Kind::kCalendarDays;

  Micros suspended{0};
  bool suspended_now = false;
  for (const auto& s : view.value("suspensions", json::array())) {
    auto from = TimeField(s, "from");
    if (!from.ok()) return from.status();
    if (s["to"].is_null()) {
      suspended_now = true;
      continue;
    }
    auto to = TimeField(s, "to");
    if (!to.ok()) return to.status();
    if (calendar_days) {
      suspended += *to - *from;
    } else {
      auto b = calendar.BusinessTimeBetween(*from, *to);
      if (!b.ok()) return b.status();
      suspended += *b;
    }
  }
  TimePoint deadline = *expected;
  if (suspended.count() > 0) {
    if (calendar_days) {
      deadline += suspended;
    } else {
      auto moved = calendar.AddBusiness(*expected, suspended);
      if (!moved.ok()) return moved.status();
      deadline = *moved;
    }
  }
  view["expected_deadline"] = FormatTime(*expected);
  view["suspended_total_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(suspended).count();
  view.erase("deadline_error");
  // While suspended the term does not run, so there is no deadline yet; the view keeps what the
  // deadline was when the suspension began, and the final one appears on resumption.
  if (suspended_now) {
    view["deadline"] = nullptr;
    view["deadline_local"] = nullptr;
    view["deadline_before_suspension"] = FormatTime(deadline);
  } else {
    view["deadline"] = FormatTime(deadline);
    view["deadline_local"] = calendar.FormatLocal(deadline);
    view.erase("deadline_before_suspension");
  }
  if (view.contains("closed")) {
    auto closed = TimeField(view["closed"], "at");
    if (!closed.ok()) return closed.status();
    view["closed_within_term"] = *closed <= deadline;
  }
  return Status::Ok();
}

}  // namespace procedo::projections
