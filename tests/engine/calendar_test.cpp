// The engine's calendar on its own: construction errors, text forms, DST, ranges, closures.
// Expected instants are written out by hand from the rules in engine/README.md.
#include "engine/calendar/calendar.h"

#include <catch2/catch.hpp>

namespace procedo {
namespace {

using std::chrono::minutes;
using namespace std::chrono_literals;

TimePoint T(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  REQUIRE(t.ok());
  return *t;
}

std::chrono::year_month_day D(int y, unsigned m, unsigned d) {
  return std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d};
}

// Mon-Fri 08:00-13:00 and 14:00-17:00 in Rome, one holiday (Tue 8 Dec 2026).
CalendarSpec OfficeSpec() {
  CalendarSpec s;
  s.name = "office";
  s.time_zone = "Europe/Rome";
  for (int wd = 1; wd <= 5; ++wd) s.windows[wd] = {{8h, 13h}, {14h, 17h}};
  s.holidays = {D(2026, 12, 8)};
  return s;
}

CalendarSpec AlwaysSpec(const char* zone = "Europe/Rome") {
  CalendarSpec s;
  s.name = "always";
  s.time_zone = zone;
  for (int wd = 0; wd < 7; ++wd) s.windows[wd] = {{0h, 24h}};
  return s;
}

BusinessCalendar Make(const CalendarSpec& s) {
  auto c = BusinessCalendar::Create(s);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("calendar construction rejects bad specs with the reason", "[calendar]") {
  auto s = OfficeSpec();
  s.time_zone = "Europe/Atlantis";
  auto c = BusinessCalendar::Create(s);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("Europe/Atlantis") && Catch::Contains("IANA"));

  s = OfficeSpec();
  s.windows[2] = {{8h, 13h}, {12h, 17h}};
  c = BusinessCalendar::Create(s);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("Tuesday") && Catch::Contains("overlap"));

  s = OfficeSpec();
  s.windows[3] = {{17h, 8h}};
  CHECK_FALSE(BusinessCalendar::Create(s).ok());

  s = OfficeSpec();
  for (auto& w : s.windows) w.clear();
  c = BusinessCalendar::Create(s);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("no business window"));

  s = OfficeSpec();
  s.non_working_day_receipt = 24h;
  CHECK_FALSE(BusinessCalendar::Create(s).ok());
}

TEST_CASE("terms and RFC 3339 instants parse strictly", "[calendar]") {
  auto t = ParseTerm("30m");
  REQUIRE(t.ok());
  CHECK(t->kind == CalendarTerm::Kind::kBusinessTime);
  CHECK(t->business_time == 30min);
  CHECK(ParseTerm("6h")->business_time == 6h);
  CHECK(ParseTerm("3bd")->kind == CalendarTerm::Kind::kBusinessDays);
  CHECK(ParseTerm("3bd")->days == 3);
  CHECK(ParseTerm("20d")->kind == CalendarTerm::Kind::kCalendarDays);
  CHECK(FormatTerm(*ParseTerm("90m")) == "90m");
  CHECK(FormatTerm(*ParseTerm("120m")) == "2h");
  for (const char* bad : {"", "m", "30", "30x", "-5m", "0bd", "0d", "3 bd", "99999999999h"}) {
    INFO(bad);
    auto r = ParseTerm(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
  }

  CHECK(T("2026-11-26T09:30:00+01:00") == T("2026-11-26T08:30:00Z"));
  CHECK(T("2026-11-26T08:30:00.25Z") - T("2026-11-26T08:30:00Z") == 250ms);
  CHECK(T("2026-11-26T08:30:00-05:30") == T("2026-11-26T14:00:00Z"));
  for (const char* bad : {"2026-11-26", "2026-11-26T09:30:00", "2026-02-30T09:00:00Z",
                          "2026-11-26T24:00:00Z", "2026-11-26T09:30:00+1:00",
                          "2026-11-26T09:30:00Zjunk", "2026-11-26T09:30:00.1234567Z", "now"}) {
    INFO(bad);
    auto r = ParseRfc3339(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("RFC 3339"));
  }
}

TEST_CASE("local formatting carries the offset of the instant", "[calendar]") {
  auto c = Make(OfficeSpec());
  CHECK(c.FormatLocal(T("2026-11-26T08:30:00Z")) == "2026-11-26T09:30:00+01:00");
  CHECK(c.FormatLocal(T("2026-07-01T08:30:00Z")) == "2026-07-01T10:30:00+02:00");
  CHECK(c.FormatLocal(T("2026-07-01T08:30:00.000001Z")) == "2026-07-01T10:30:00.000001+02:00");
}

TEST_CASE("business time, next opening and the receipt rule", "[calendar]") {
  auto spec = OfficeSpec();
  auto c = Make(spec);
  CHECK(c.IsBusinessTime(T("2026-11-26T08:00:00+01:00")));
  CHECK_FALSE(c.IsBusinessTime(T("2026-11-26T13:00:00+01:00")));  // windows are [open, close)
  CHECK_FALSE(c.IsBusinessTime(T("2026-11-28T10:00:00+01:00")));  // Saturday
  CHECK_FALSE(c.IsBusinessTime(T("2026-12-08T10:00:00+01:00")));  // the holiday
  CHECK(*c.NextOpening(T("2026-11-26T13:10:00+01:00")) == T("2026-11-26T14:00:00+01:00"));
  CHECK(*c.NextOpening(T("2026-11-26T10:00:00+01:00")) == T("2026-11-26T10:00:00+01:00"));
  CHECK(*c.NextOpening(T("2026-12-07T17:00:00+01:00")) == T("2026-12-09T08:00:00+01:00"));
  // Without a receipt rule a Saturday receipt counts from Monday's opening; with it, from 09:00.
  CHECK(*c.EffectiveStart(T("2026-11-28T10:00:00+01:00")) == T("2026-11-30T08:00:00+01:00"));
  spec.non_working_day_receipt = 9h;
  auto r = Make(spec);
  CHECK(*r.EffectiveStart(T("2026-11-28T10:00:00+01:00")) == T("2026-11-30T09:00:00+01:00"));
  CHECK(*r.EffectiveStart(T("2026-11-27T18:00:00+01:00")) == T("2026-11-30T08:00:00+01:00"));
  // A receipt time inside the lunch break moves on to the afternoon opening.
  spec.non_working_day_receipt = 13h + 30min;
  auto lunch = Make(spec);
  CHECK(*lunch.EffectiveStart(T("2026-11-28T10:00:00+01:00")) == T("2026-11-30T14:00:00+01:00"));
}

TEST_CASE("zero, negative and day-count edge cases", "[calendar]") {
  auto c = Make(OfficeSpec());
  const auto sat = T("2026-11-28T10:00:00+01:00");
  CHECK(*c.AddBusiness(sat, 0us) == sat);
  CHECK(c.AddBusiness(sat, -1us).status().IsInvalidArgument());
  CHECK(c.AddBusinessDays(sat, 0).status().IsInvalidArgument());
  CHECK(c.AddCalendarDays(sat, -3).status().IsInvalidArgument());
  CHECK(*c.Elapsed(sat, sat - 1h) == 0us);
  // Just past the window close of the deadline day: 1 µs of business time remains to be counted
  // on the next opening.
  CHECK(*c.AddBusiness(T("2026-11-26T16:59:59.999999+01:00"), 1us) ==
        T("2026-11-26T17:00:00+01:00"));
  CHECK(*c.AddBusiness(T("2026-11-26T16:59:59.999999+01:00"), 2us) ==
        T("2026-11-27T08:00:00.000001+01:00"));
}

TEST_CASE("DST days: windows keep wall-clock times, H24 days have 23 and 25 hours", "[calendar]") {
  auto always = Make(AlwaysSpec());
  CHECK(*always.BusinessTimeBetween(T("2026-03-29T00:00:00+01:00"),
                                    T("2026-03-30T00:00:00+02:00")) == 23h);
  CHECK(*always.BusinessTimeBetween(T("2026-10-25T00:00:00+02:00"),
                                    T("2026-10-26T00:00:00+01:00")) == 25h);
  CHECK(*always.AddBusinessDays(T("2026-03-28T12:00:00+01:00"), 1) ==
        T("2026-03-30T00:00:00+02:00"));
  CHECK(*always.AddCalendarDays(T("2026-10-24T12:00:00+02:00"), 1) ==
        T("2026-10-25T23:59:59.999999+01:00"));

  // A night window across the change: 01:00-04:00 local is 2 real hours in spring, 4 in autumn.
  auto spec = AlwaysSpec();
  for (auto& w : spec.windows) w = {{1h, 4h}};
  auto night = Make(spec);
  CHECK(*night.BusinessTimeBetween(T("2026-03-29T00:00:00+01:00"),
                                   T("2026-03-29T12:00:00+02:00")) == 2h);
  CHECK(*night.BusinessTimeBetween(T("2026-10-25T00:00:00+02:00"),
                                   T("2026-10-25T12:00:00+01:00")) == 4h);
  // 02:30 does not exist on 29 Mar: a window opening then opens at 03:00 CEST.
  for (auto& w : spec.windows) w = {{2h + 30min, 5h}};
  auto gap = Make(spec);
  CHECK(*gap.NextOpening(T("2026-03-29T00:00:00+01:00")) == T("2026-03-29T03:00:00+02:00"));
  // 02:30 happens twice on 25 Oct: the window opens at the first one.
  CHECK(*gap.NextOpening(T("2026-10-25T00:00:00+02:00")) == T("2026-10-25T02:30:00+02:00"));
  // Office hours on the Monday after each change keep their wall-clock times.
  auto office = Make(OfficeSpec());
  CHECK(*office.NextOpening(T("2026-03-28T12:00:00+01:00")) == T("2026-03-30T08:00:00+02:00"));
  CHECK(*office.NextOpening(T("2026-10-24T12:00:00+02:00")) == T("2026-10-26T08:00:00+01:00"));
}

TEST_CASE("closures are added and removed at run time", "[calendar]") {
  auto c = Make(OfficeSpec());
  const auto fri = T("2026-08-07T16:00:00+02:00");
  CHECK(*c.AddBusiness(fri, 2h) == T("2026-08-10T09:00:00+02:00"));
  REQUIRE(c.AddClosure({"ferie", D(2026, 8, 10), D(2026, 8, 14), "ferie estive"}).ok());
  CHECK(c.IsClosed(D(2026, 8, 12)));
  CHECK_FALSE(c.IsBusinessDay(D(2026, 8, 12)));
  CHECK(*c.AddBusiness(fri, 2h) == T("2026-08-17T09:00:00+02:00"));
  auto dup = c.AddClosure({"ferie", D(2026, 9, 1), D(2026, 9, 1), ""});
  CHECK(dup.IsInvalidArgument());
  CHECK(c.AddClosure({"backwards", D(2026, 9, 2), D(2026, 9, 1), ""}).IsInvalidArgument());
  REQUIRE(c.RemoveClosure("ferie").ok());
  CHECK(c.RemoveClosure("ferie").IsNotFound());
  CHECK(*c.AddBusiness(fri, 2h) == T("2026-08-10T09:00:00+02:00"));
}

TEST_CASE("the supported range is 1970-01-02..2199-12-31, past the explicit tz data",
          "[calendar]") {
  auto c = Make(OfficeSpec());
  // Debian's TZif files list Rome's transitions up to 2037; the footer's rule carries DST on.
  CHECK(c.last_date() == D(2199, 12, 31));
  CHECK(*c.AddBusiness(T("2040-01-02T10:00:00+01:00"), 1h) == T("2040-01-02T11:00:00+01:00"));
  CHECK(*c.AddBusiness(T("2040-07-02T16:30:00+02:00"), 1h) == T("2040-07-03T08:30:00+02:00"));
  // Wed 30 Dec 2037 + 5 business days (the office has only 8 Dec as a holiday): Thu 31, Fri 1,
  // Mon 4, Tue 5, Wed 6 Jan 2038.
  CHECK(*c.AddBusinessDays(T("2037-12-30T10:00:00+01:00"), 5) == T("2038-01-06T17:00:00+01:00"));
  CHECK(c.IsBusinessTime(T("2040-01-02T10:00:00+01:00")));
  // Office hours in the weeks of the 2040 changes (25 Mar, 28 Oct) keep their wall-clock times.
  CHECK(*c.NextOpening(T("2040-03-24T12:00:00+01:00")) == T("2040-03-26T08:00:00+02:00"));
  CHECK(*c.NextOpening(T("2040-10-27T12:00:00+02:00")) == T("2040-10-29T08:00:00+01:00"));
  auto r = c.AddBusiness(T("2200-01-02T10:00:00+01:00"), 1h);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("2199-12-31") && Catch::Contains("Europe/Rome"));
  CHECK(c.AddBusinessDays(T("2199-12-30T10:00:00+01:00"), 5).status().IsInvalidArgument());
  CHECK_FALSE(c.IsBusinessTime(T("2200-01-02T10:00:00+01:00")));
  CHECK(c.AddBusiness(T("1969-06-01T10:00:00Z"), 1h).status().IsInvalidArgument());
  auto utc = Make(AlwaysSpec("Etc/UTC"));
  CHECK(*utc.AddBusiness(T("2150-01-01T00:00:00Z"), 1h) == T("2150-01-01T01:00:00Z"));
}

}  // namespace procedo
