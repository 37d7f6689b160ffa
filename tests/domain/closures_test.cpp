// Seed 004's closure rule (at most 8 business days a year, at least 5 days' notice) and the fold
// of calendar.closure_* events.
#include "domain/closures.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "domain/calendars.h"
#include "domain/workflow_fixture.h"
#include "engine/log_fixture.h"

namespace procedo::domain {
namespace {

using std::chrono::year_month_day;

year_month_day D(int y, unsigned m, unsigned d) {
  return std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d};
}

TimePoint T(const char* s) {
  return *ParseRfc3339(s);
}

BusinessCalendar Helpdesk() {
  static const CalendarCatalog catalog = *CalendarCatalog::LoadDomain(PROCEDO_SOURCE_DIR "/domain");
  return *catalog.Build("helpdesk", "comune-forli");
}

}  // namespace

TEST_CASE("closure notice: at least 5 days between the announcement and the first closed day",
          "[closures]") {
  const auto cal = Helpdesk();
  const Closure c{"ferie", D(2026, 8, 10), D(2026, 8, 14), "ferie estive"};
  // Announced Wednesday 5 Aug 2026: 10 Aug is 5 days later.
  CHECK(CheckClosure(cal, {}, c, T("2026-08-05T23:00:00+02:00")).ok());
  // Announced Thursday 6 Aug: only 4 days.
  auto s = CheckClosure(cal, {}, c, T("2026-08-06T08:00:00+02:00"));
  REQUIRE(s.IsInvalidArgument());
  CHECK_THAT(s.message(), Catch::Contains("'ferie' refused") && Catch::Contains("4 day(s)") &&
                              Catch::Contains("at least 5 days") && Catch::Contains("2026-08-11"));
  // The local date decides: 22:30 UTC on 5 Aug is already 6 Aug in Rome.
  CHECK_FALSE(CheckClosure(cal, {}, c, T("2026-08-05T22:30:00Z")).ok());
  // Announced after the start.
  CHECK_FALSE(CheckClosure(cal, {}, c, T("2026-08-12T10:00:00+02:00")).ok());
}

TEST_CASE("closure budget: 8 business days a year, weekends and holidays free", "[closures]") {
  const auto cal = Helpdesk();
  const auto announced = T("2026-06-01T10:00:00+02:00");
  // Mon 10 - Fri 14 Aug: 5 business days. Sat 15 Aug is a holiday and a Saturday anyway.
  const Closure summer{"summer", D(2026, 8, 10), D(2026, 8, 16), ""};
  CHECK(CheckClosure(cal, {}, summer, announced).ok());
  // Christmas 24-31 Dec 2026: 24, 28, 29, 30, 31 are business days (25, 26, 27 are not) = 5.
  const Closure christmas{"christmas", D(2026, 12, 24), D(2026, 12, 31), ""};
  CHECK(CheckClosure(cal, {}, christmas, announced).ok());
  // Together 10 > 8.
  auto s = CheckClosure(cal, {summer}, christmas, announced);
  REQUIRE(s.IsInvalidArgument());
  CHECK_THAT(s.message(), Catch::Contains("5 business day(s) in 2026") &&
                              Catch::Contains("5 already closed") && Catch::Contains("10 in all") &&
                              Catch::Contains("at most 8"));
  // 28-30 Dec: 3 more business days: 8 in all, allowed.
  CHECK(
      CheckClosure(cal, {summer}, {"short", D(2026, 12, 28), D(2026, 12, 30), ""}, announced).ok());
  // Overlapping days count once: 12-14 Aug is already closed, so 12-17 Aug adds only Mon 17.
  CHECK(CheckClosure(cal, {summer, {"dec", D(2026, 12, 28), D(2026, 12, 29), ""}},
                     {"overlap", D(2026, 8, 12), D(2026, 8, 17), ""}, announced)
            .ok());
  // The budget is per calendar year: 2027 closures do not use 2026's days.
  CHECK(CheckClosure(cal, {summer}, {"next", D(2027, 1, 11), D(2027, 1, 15), ""}, announced).ok());
  // A closure across New Year is counted in each year.
  const Closure ny{"ny", D(2026, 12, 28), D(2027, 1, 8), ""};  // 4 business days in 2026, 4 in 2027
  CHECK(CheckClosure(cal, {}, ny, announced).ok());
  CHECK_FALSE(CheckClosure(cal, {summer}, ny, announced).ok());  // 2026: 5 + 4 = 9
}

TEST_CASE("the closure rule's verdict carries its figures", "[closures]") {
  const auto cal = Helpdesk();
  const Closure c{"ferie", D(2026, 8, 10), D(2026, 8, 14), "ferie estive"};
  auto late = JudgeClosure(cal, {}, c, T("2026-08-06T08:00:00+02:00"));
  REQUIRE(late.ok());
  REQUIRE(late->has_value());
  CHECK((*late)->reason == ClosureRefusal::Reason::kTooLittleNotice);
  CHECK((*late)->announced == D(2026, 8, 6));
  CHECK((*late)->first_day == D(2026, 8, 10));
  CHECK((*late)->first_possible == D(2026, 8, 11));
  CHECK((*late)->notice_days == 4);
  CHECK((*late)->min_notice_days == 5);

  const auto announced = T("2026-06-01T10:00:00+02:00");
  const Closure christmas{"christmas", D(2026, 12, 24), D(2026, 12, 31), ""};
  auto over = JudgeClosure(cal, {c}, christmas, announced);
  REQUIRE(over.ok());
  REQUIRE(over->has_value());
  CHECK((*over)->reason == ClosureRefusal::Reason::kOverBudget);
  CHECK((*over)->year == 2026);
  CHECK((*over)->added == 5);
  CHECK((*over)->already == 5);
  CHECK((*over)->max_per_year == 8);

  auto allowed = JudgeClosure(cal, {}, christmas, announced);
  REQUIRE(allowed.ok());
  CHECK_FALSE(allowed->has_value());
  auto reused = JudgeClosure(cal, {christmas}, christmas, announced);
  REQUIRE(reused.ok());
  CHECK((*reused)->reason == ClosureRefusal::Reason::kIdInUse);
}

TEST_CASE("closures with bad dates or a used id are refused", "[closures]") {
  const auto cal = Helpdesk();
  const auto announced = T("2026-06-01T10:00:00+02:00");
  CHECK_FALSE(CheckClosure(cal, {}, {"x", D(2026, 8, 14), D(2026, 8, 10), ""}, announced).ok());
  CHECK_FALSE(CheckClosure(cal, {}, {"", D(2026, 8, 10), D(2026, 8, 10), ""}, announced).ok());
  auto s = CheckClosure(cal, {{"x", D(2026, 9, 1), D(2026, 9, 1), ""}},
                        {"x", D(2026, 8, 10), D(2026, 8, 10), ""}, announced);
  CHECK_THAT(s.message(), Catch::Contains("already used"));
}

TEST_CASE("closure events fold into the calendar's closures", "[closures]") {
  CHECK(CalendarStream("comune-forli", "helpdesk") == "calendar-comune-forli-helpdesk");
  std::vector<Closure> closures;
  const Closure summer{"summer", D(2026, 8, 10), D(2026, 8, 14), "ferie estive"};
  REQUIRE(FoldClosureEvent(&closures, kClosureAnnounced,
                           ClosureEventData("helpdesk", "comune-forli", summer))
              .ok());
  REQUIRE(FoldClosureEvent(&closures, kClosureAnnounced,
                           ClosureEventData("helpdesk", "comune-forli",
                                            {"xmas", D(2026, 12, 28), D(2026, 12, 31), "Natale"}))
              .ok());
  REQUIRE(FoldClosureEvent(&closures, "case.started", nlohmann::json::object()).ok());
  REQUIRE(closures.size() == 2);
  auto cal = Helpdesk();
  REQUIRE(ApplyClosures(&cal, closures).ok());
  CHECK(cal.IsClosed(D(2026, 8, 12)));
  CHECK(cal.IsClosed(D(2026, 12, 29)));
  CHECK(*cal.AddBusiness(T("2026-08-07T16:00:00+02:00"), std::chrono::hours(2)) ==
        T("2026-08-17T09:00:00+02:00"));

  REQUIRE(FoldClosureEvent(&closures, kClosureCancelled,
                           ClosureEventData("helpdesk", "comune-forli", summer))
              .ok());
  REQUIRE(closures.size() == 1);
  CHECK(closures[0].id == "xmas");
  // Cancelling twice (replay of a log that has it) changes nothing and does not fail.
  CHECK(FoldClosureEvent(&closures, kClosureCancelled,
                         ClosureEventData("helpdesk", "comune-forli", summer))
            .ok());
  REQUIRE(ApplyClosures(&cal, closures).ok());
  CHECK_FALSE(cal.IsClosed(D(2026, 8, 12)));
  CHECK(*cal.AddBusiness(T("2026-08-07T16:00:00+02:00"), std::chrono::hours(2)) ==
        T("2026-08-10T09:00:00+02:00"));

  auto bad = FoldClosureEvent(&closures, kClosureAnnounced,
                              {{"closure_id", "y"}, {"from", "2026-13-01"}, {"to", "2026-12-01"}});
  CHECK(bad.IsInvalidArgument());
  CHECK(
      FoldClosureEvent(&closures, kClosureAnnounced, {{"from", "2026-01-01"}}).IsInvalidArgument());
}

TEST_CASE("closure event data satisfies the event schemas' required fields", "[closures]") {
  for (const char* type : {kClosureAnnounced, kClosureCancelled}) {
    std::ifstream in(std::string(PROCEDO_SOURCE_DIR "/schemas/events/") + type + ".json");
    REQUIRE(in);
    auto schema = nlohmann::json::parse(in);
    CHECK(schema.at("additionalProperties") == false);
    auto data = ClosureEventData("helpdesk", "comune-forli",
                                 {"x", D(2026, 8, 10), D(2026, 8, 14), "ferie"});
    for (const auto& key : schema.at("required")) CHECK(data.contains(key.get<std::string>()));
    for (const auto& [key, v] : data.items()) CHECK(schema.at("properties").contains(key));
  }
}

}  // namespace procedo::domain

namespace procedo::domain {

TEST_CASE(
    "announcing and cancelling closures are commands of the calendar workflow: refused "
    "with the reason, checked against what the stream holds",
    "[closures]") {
  testing::WorkflowFixture wf;
  wf.logf.clock.Set(T("2026-06-01T10:00:00+02:00"));
  const Actor admin{"resp1", "admin", "comune-forli"};
  auto send = [&wf](const Command& c, const Actor& who) {
    auto r = wf.handler->Handle(c, who);
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  const Closure summer{"summer", D(2026, 8, 10), D(2026, 8, 14), "Ferie estive"};
  auto first = send(AnnounceClosureCommand("helpdesk", "comune-forli", summer), admin);
  REQUIRE(first.accepted());
  CHECK(first.append.events.at(0)->stream == "calendar-comune-forli-helpdesk");
  CHECK(first.append.events.at(0)->type == kClosureAnnounced);
  CHECK(first.append.events.at(0)->actor ==
        R"({"id":"resp1","role":"admin","tenant":"comune-forli"})");

  // Too little notice: nothing is appended, the reason says why.
  auto late = send(AnnounceClosureCommand("helpdesk", "comune-forli",
                                          {"local", D(2026, 6, 3), D(2026, 6, 3), "Patrono"}),
                   admin);
  REQUIRE_FALSE(late.accepted());
  CHECK(late.rejection->guard == "closure_allowed");
  CHECK_THAT(late.rejection->message, Catch::Contains("at least 5 days"));
  // The budget counts what the stream already holds: 5 + 5 > 8.
  const Closure christmas{"christmas", D(2026, 12, 24), D(2026, 12, 31), "Natale"};
  auto over = send(AnnounceClosureCommand("helpdesk", "comune-forli", christmas), admin);
  REQUIRE_FALSE(over.accepted());
  CHECK_THAT(over.rejection->message, Catch::Contains("10 in all"));
  // Another tenant's calendar has its own budget; its stream is its own.
  CHECK(send(AnnounceClosureCommand("helpdesk", "comune-aosta", christmas),
             Actor{"resp2", "admin", "comune-aosta"})
            .accepted());
  CHECK(*wf.logf.log->StreamVersion("calendar-comune-forli-helpdesk") == 1);
  // A payload naming another calendar than the stream's is refused.
  Command wrong = AnnounceClosureCommand("helpdesk", "comune-forli", christmas);
  wrong.stream = "calendar-comune-forli-support";
  CHECK(send(wrong, admin).rejection->guard == "calendar_stream_matches");
  // Only administrators announce closures.
  CHECK(send(AnnounceClosureCommand("helpdesk", "comune-forli", christmas),
             Actor{"op1", "operator", "comune-forli"})
            .rejection->kind == Rejection::Kind::kRoleNotAllowed);

  // Cancelling frees the days; an unknown id is refused by closure_exists.
  auto unknown = send(CancelClosureCommand("helpdesk", "comune-forli", "nope"), admin);
  REQUIRE_FALSE(unknown.accepted());
  CHECK(unknown.rejection->guard == "closure_exists");
  auto cancelled = send(CancelClosureCommand("helpdesk", "comune-forli", "summer"), admin);
  REQUIRE(cancelled.accepted());
  CHECK(cancelled.append.events.at(0)->type == kClosureCancelled);
  CHECK(nlohmann::json::parse(cancelled.append.events.at(0)->data)["from"] == "2026-08-10");
  CHECK(send(AnnounceClosureCommand("helpdesk", "comune-forli", christmas), admin).accepted());
  auto now = ReadClosures(*wf.logf.log, "helpdesk", "comune-forli");
  REQUIRE(now.ok());
  CHECK(now->version == 3);
  REQUIRE(now->closures.size() == 1);
  CHECK(now->closures[0].id == "christmas");
  // The workflow's state folds the same closures (the reducer the guards read).
  CHECK(ClosuresOf(wf.State("calendar-comune-forli-helpdesk")).size() == 1);
}

}  // namespace procedo::domain
