// Loading the calendar data files: the shipped ones, and broken ones whose errors must name the
// file, the JSON path and what to write instead.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "domain/calendars.h"
#include "support/temp_dir.h"

namespace procedo::domain {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

const char* kGood = R"({"id": "office", "time_zone": "Europe/Rome",
  "week": {"mon": [{"open": "08:00", "close": "13:00"}]}})";

Status LoadOne(const std::string& file, const std::string& text) {
  procedo::testing::TempDir dir;
  Write(dir.sub(file), text);
  auto c = CalendarCatalog::LoadDir(dir.path());
  return c.ok() ? Status::Ok() : c.status();
}

}  // namespace

TEST_CASE("the shipped calendars and tenants load", "[calendars]") {
  auto cat = CalendarCatalog::LoadDomain(PROCEDO_SOURCE_DIR "/domain");
  INFO(cat.status().ToString());
  REQUIRE(cat.ok());
  CHECK(cat->Ids() == std::vector<std::string>{"always", "assistance", "helpdesk", "support"});
  const auto* helpdesk = cat->Find("helpdesk");
  REQUIRE(helpdesk != nullptr);
  CHECK(helpdesk->spec.time_zone == "Europe/Rome");
  CHECK(helpdesk->spec.windows[1].size() == 2);
  CHECK(helpdesk->spec.windows[0].empty());
  CHECK(helpdesk->spec.non_working_day_receipt == std::chrono::minutes(9 * 60));
  const auto* forli = cat->FindTenant("comune-forli");
  REQUIRE(forli != nullptr);
  CHECK(forli->patron_saint == std::chrono::February / 4);
  CHECK(cat->FindTenant("comune-aosta")->patron_saint == std::chrono::September / 7);

  auto cal = cat->Build("support", "comune-forli");
  REQUIRE(cal.ok());
  CHECK_FALSE(cal->IsBusinessDay(std::chrono::year{2026} / 2 / 4));  // Madonna del Fuoco
  CHECK(cal->IsHoliday(std::chrono::year{2027} / 3 / 29));           // Easter Monday
  CHECK(cal->IsHoliday(std::chrono::year{2027} / 10 / 4));           // San Francesco
  CHECK_FALSE(cal->IsHoliday(std::chrono::year{2025} / 10 / 4));
  auto plain = cat->Build("support", "");
  REQUIRE(plain.ok());
  CHECK(plain->IsBusinessDay(std::chrono::year{2026} / 2 / 4));
  auto always = cat->Build("always", "comune-forli");  // no holidays, patron saint off
  REQUIRE(always.ok());
  CHECK(always->IsBusinessDay(std::chrono::year{2026} / 12 / 25));
  CHECK(always->IsBusinessDay(std::chrono::year{2026} / 2 / 4));

  auto unknown = cat->Build("nope", "");
  REQUIRE(unknown.status().IsNotFound());
  CHECK_THAT(unknown.status().message(), Catch::Contains("'nope'") && Catch::Contains("helpdesk"));
  auto stranger = cat->Build("helpdesk", "comune-atlantide");
  REQUIRE(stranger.status().IsNotFound());
  CHECK_THAT(stranger.status().message(), Catch::Contains("tenants.json"));
}

TEST_CASE("the embedded schemas are the files in schemas/", "[calendars]") {
  std::ifstream a(PROCEDO_SOURCE_DIR "/schemas/calendar.schema.json");
  std::ifstream b(PROCEDO_SOURCE_DIR "/schemas/calendar_tenants.schema.json");
  CHECK(nlohmann::json::parse(a) == nlohmann::json::parse(CalendarSchemaText()));
  CHECK(nlohmann::json::parse(b) == nlohmann::json::parse(CalendarTenantsSchemaText()));
}

TEST_CASE("broken calendar files are refused with file, path and fix", "[calendars]") {
  CHECK(LoadOne("office.json", kGood).ok());

  auto s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Rome",
      "week": {"mon": [{"open": "8:00", "close": "13:00"}]}})");
  REQUIRE(s.IsInvalidArgument());
  CHECK_THAT(s.message(), Catch::Contains("office.json") && Catch::Contains("/week/mon/0/open") &&
                              Catch::Contains("HH:MM"));

  s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Rome", "colour": "red",
      "week": {"mon": [{"open": "08:00", "close": "13:00"}]}})");
  REQUIRE(s.IsInvalidArgument());
  CHECK_THAT(s.message(), Catch::Contains("office.json") && Catch::Contains("colour") &&
                              Catch::Contains("remove the key"));

  s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Rome",
      "week": {"monday": [{"open": "08:00", "close": "13:00"}]}})");
  CHECK_THAT(s.message(), Catch::Contains("monday"));

  s = LoadOne("office.json", R"({"id": "office", "week": {"mon": []}})");
  CHECK_THAT(s.message(), Catch::Contains("time_zone"));

  s = LoadOne("other.json", kGood);
  CHECK_THAT(s.message(), Catch::Contains("other.json") && Catch::Contains("/id") &&
                              Catch::Contains("office.json"));

  s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Atlantis",
      "week": {"mon": [{"open": "08:00", "close": "13:00"}]}})");
  CHECK_THAT(s.message(), Catch::Contains("office.json") && Catch::Contains("Europe/Atlantis"));

  s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Rome",
      "week": {"tue": [{"open": "08:00", "close": "13:00"}, {"open": "12:00", "close": "17:00"}]}})");
  CHECK_THAT(s.message(), Catch::Contains("office.json") && Catch::Contains("overlap"));

  s = LoadOne("office.json", R"({"id": "office", "time_zone": "Europe/Rome",
      "week": {"mon": [{"open": "08:00", "close": "13:00"}]}, "extra_holidays": ["2026-02-30"]})");
  CHECK_THAT(s.message(), Catch::Contains("/extra_holidays/0"));

  s = LoadOne("office.json", R"({"id": "office", )");
  CHECK_THAT(s.message(), Catch::Contains("office.json") && Catch::Contains("not valid JSON"));
}

TEST_CASE("broken tenants files are refused with file, path and fix", "[calendars]") {
  procedo::testing::TempDir dir;
  Write(dir.sub("office.json"), kGood);
  Write(dir.sub("tenants.json"), R"({"comune-x": {"name": "X", "patron_saint": "13-01"}})");
  auto c = CalendarCatalog::LoadDir(dir.path());
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("tenants.json") &&
                                       Catch::Contains("/comune-x/patron_saint") &&
                                       Catch::Contains("MM-DD"));
  Write(dir.sub("tenants.json"), R"({"comune-x": {"name": "X", "patron_saint": "02-30"}})");
  c = CalendarCatalog::LoadDir(dir.path());
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.status().message(), Catch::Contains("/comune-x/patron_saint"));
  Write(dir.sub("tenants.json"), R"({"comune-x": {"name": "X", "patron_saint": "02-29"}})");
  c = CalendarCatalog::LoadDir(dir.path());
  REQUIRE(c.ok());
  auto cal = c->Build("office", "comune-x");  // 29 Feb only in leap years
  REQUIRE(cal.ok());
  CHECK(cal->IsHoliday(std::chrono::year{2028} / 2 / 29));
  CHECK_FALSE(cal->IsHoliday(std::chrono::year{2027} / 2 / 28));

  auto missing = CalendarCatalog::LoadDir(dir.sub("nowhere"));
  CHECK(missing.status().IsNotFound());
  CHECK_THAT(missing.status().message(), Catch::Contains("domain_dir"));
}

}  // namespace procedo::domain
