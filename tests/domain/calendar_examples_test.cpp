// Runs the hand-computed examples of tests/domain/calendar_examples.json against the shipped
// calendars (domain/calendars): every expected value there was worked out from the rules, so a
// failure here is a disagreement between the rules and the code.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "domain/calendars.h"
#include "domain/closures.h"

namespace procedo::domain {
namespace {

const CalendarCatalog& Catalog() {
  static const CalendarCatalog catalog = [] {
    auto c = CalendarCatalog::LoadDomain(PROCEDO_SOURCE_DIR "/domain");
    if (!c.ok()) FAIL(c.status().ToString());
    return *c;
  }();
  return catalog;
}

nlohmann::json Examples() {
  std::ifstream in(PROCEDO_SOURCE_DIR "/tests/domain/calendar_examples.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

BusinessCalendar CalendarFor(const nlohmann::json& ex) {
  auto cal = Catalog().Build(ex.at("calendar").get<std::string>(), ex.value("tenant", ""));
  INFO(cal.status().ToString());
  REQUIRE(cal.ok());
  for (const auto& c : ex.value("closures", nlohmann::json::array())) {
    auto from = ParseDate(c.at("from").get<std::string>());
    auto to = ParseDate(c.at("to").get<std::string>());
    REQUIRE(from);
    REQUIRE(to);
    REQUIRE(cal->AddClosure({c.at("id").get<std::string>(), *from, *to, "test"}).ok());
  }
  return *cal;
}

TimePoint Time(const nlohmann::json& ex, const char* key) {
  auto t = ParseRfc3339(ex.at(key).get<std::string>());
  INFO(key << ": " << t.status().ToString());
  REQUIRE(t.ok());
  return *t;
}

}  // namespace

TEST_CASE("worked deadline examples", "[calendar][examples]") {
  const auto examples = Examples().at("deadlines");
  REQUIRE(examples.size() >= 40);
  for (const auto& ex : examples) {
    INFO(ex.dump());
    const auto cal = CalendarFor(ex);
    auto term = ParseTerm(ex.at("add").get<std::string>());
    REQUIRE(term.ok());
    Result<TimePoint> deadline = Status::InvalidArgument("not computed");
    if (ex.contains("pause")) {
      // A clock paused and resumed: the elapsed part is kept, the rest runs from the resume.
      REQUIRE(term->kind == CalendarTerm::Kind::kBusinessTime);
      auto elapsed = cal.Elapsed(Time(ex, "from"), Time(ex, "pause"));
      REQUIRE(elapsed.ok());
      deadline = cal.AddBusiness(Time(ex, "resume"), term->business_time - *elapsed);
    } else {
      deadline = cal.Add(Time(ex, "from"), *term);
    }
    INFO(deadline.status().ToString());
    REQUIRE(deadline.ok());
    CHECK(cal.FormatLocal(*deadline) == ex.at("expected").get<std::string>());
    CHECK(*deadline == Time(ex, "expected"));
  }
}

TEST_CASE("worked elapsed examples", "[calendar][examples]") {
  const auto examples = Examples().at("elapsed");
  REQUIRE(examples.size() >= 5);
  for (const auto& ex : examples) {
    INFO(ex.dump());
    const auto cal = CalendarFor(ex);
    auto elapsed = cal.Elapsed(Time(ex, "from"), Time(ex, "to"));
    REQUIRE(elapsed.ok());
    CHECK(std::chrono::duration_cast<std::chrono::seconds>(*elapsed).count() ==
          ex.at("seconds").get<int64_t>());
  }
}

}  // namespace procedo::domain
