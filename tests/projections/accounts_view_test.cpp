// The accounts view: each position's balance in one row, its movements in order, the holder's
// positions and the Ente's uses per service, site and day, folded from events the real command
// handler appended.
#include "domain/accounts.h"
#include "projection_fixture.h"
#include "projections/views/accounts.h"
#include "projections/views/applications.h"
#include "projections/views/rankings.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::AccountsProjection;
using projections::ApplicationsProjection;
using projections::RankingsProjection;

const Actor kOp = A("op1", "operator");

std::string Admitted(ProjectionFixture& f, const std::string& s, const std::string& service,
                     const std::string& site, int64_t isee) {
  json start = {
      {"channel", "online"},
      {"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
      {"beneficiary",
       {{"name", "Luca Blanc"}, {"tax_code", "BLNLCU15C10A326P"}, {"birth_date", "2015-03-10"}}},
      {"services", {service}},
      {"site", site},
      {"isee_cents", isee}};
  const Actor cit = A("cit1", "citizen");
  f.Must(cit, s, "start_enrolment", start);
  json answers =
      service == "canteen"
          ? json{{"diet", "standard"}, {"days_per_week", 5}}
          : json{{"address", "Via Festaz 20"}, {"hours_per_week", 4}, {"lives_alone", false}};
  f.Must(cit, s, "complete_details", {{"details", {{service, answers}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(kOp, s, "rank_for_service", {{"service", service}});
  f.Must(kOp, s, "admit_to_service", {{"service", service}});
  return domain::AccountStream(s, service);
}

}  // namespace

TEST_CASE("the accounts view folds balances, movements, holders and uses per day",
          "[projections][accounts]") {
  ProjectionFixture f;
  const std::string meals =
      Admitted(f, "enrolment-comune-aosta-1", "canteen", "primaria_einaudi", 700'000);
  const std::string care =
      Admitted(f, "enrolment-comune-aosta-2", "home_care", "domicilio", 1'000'000);
  f.Must(kOp, meals, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 1000}});
  for (const char* id : {"M1", "M2"}) {
    f.Must(kOp, meals, "record_usage",
           {{"movement_id", id}, {"date", "2026-09-22"}, {"site", "primaria_einaudi"}});
  }
  f.Must(kOp, meals, "record_usage",
         {{"movement_id", "M3"}, {"date", "2026-09-23"}, {"site", "primaria_saint_roch"}});
  f.Must(kOp, care, "record_usage",
         {{"movement_id", "H1"}, {"date", "2026-09-22"}, {"site", "domicilio"}, {"quantity", 3}});
  f.CatchUp();

  json row = f.Row(AccountsProjection::kName, AccountsProjection::SummaryKey(meals));
  CHECK(row["balance_cents"] == 1000 - 3 * 390);
  CHECK(row["regime"] == "prepaid");
  CHECK(row["holder"] == "cit1");
  CHECK(row["usage_quantity"] == 3);
  CHECK(row["movements"] == 4);
  CHECK(row["beneficiary_name"] == "Luca Blanc");
  CHECK(row["consumption"] == json({{"2026-09", {{"quantity", 3}, {"amount_cents", 1170}}}}));
  json periodic = f.Row(AccountsProjection::kName, AccountsProjection::SummaryKey(care));
  CHECK(periodic["usage_cents"] == 3 * 900);  // ISEE 10,000 euro: the second band
  CHECK(periodic["regime"] == "periodic");

  auto movements = f.Rows(AccountsProjection::kName, AccountsProjection::MovementsPrefix(meals));
  REQUIRE(movements.size() == 4);
  CHECK(json::parse(movements[0].value)["type"] == "account.topped_up");
  CHECK(json::parse(movements[3].value)["movement_id"] == "M3");
  CHECK(json::parse(movements[3].value)["balance_cents"] == -170);

  auto mine =
      f.Rows(AccountsProjection::kName, AccountsProjection::HolderPrefix("comune-aosta", "cit1"));
  CHECK(mine.size() == 2);

  auto days = f.Rows(AccountsProjection::kName,
                     AccountsProjection::DayPrefix("comune-aosta", "canteen", "primaria_einaudi"));
  REQUIRE(days.size() == 1);
  CHECK(json::parse(days[0].value) ==
        json({{"date", "2026-09-22"}, {"quantity", 2}, {"amount_cents", 780}, {"movements", 2}}));

  // The rule of domain/access.h: the holder and the tenant's staff read it, no other citizen.
  const auto facts = domain::AccountFacts("comune-aosta", row["holder"]);
  CHECK(domain::MayRead(Principal{"cit1", "citizen", "comune-aosta"}, facts));
  CHECK_FALSE(domain::MayRead(Principal{"cit2", "citizen", "comune-aosta"}, facts));
  CHECK(domain::MayRead(Principal{"op9", "operator", "comune-aosta"}, facts));
  CHECK_FALSE(domain::MayRead(Principal{"op9", "operator", "comune-forli"}, facts));
}

TEST_CASE("the rankings view orders applications by score and follows each outcome",
          "[projections][accounts]") {
  ProjectionFixture f;
  // Presented in this order; ranked by ISEE band first, residence next, presentation last.
  const std::vector<std::pair<int64_t, bool>> applicants = {
      {3'000'000, true}, {500'000, false}, {500'000, true}, {3'000'000, true}};
  for (size_t i = 0; i < applicants.size(); ++i) {
    const std::string s = "enrolment-comune-aosta-" + std::to_string(i + 1);
    json start = {
        {"channel", "online"},
        {"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
        {"beneficiary",
         {{"name", "Luca Blanc"}, {"tax_code", "BLNLCU15C10A326P"}, {"birth_date", "2015-03-10"}}},
        {"services", {"canteen"}},
        {"site", "primaria_einaudi"},
        {"isee_cents", applicants[i].first},
        {"resident", applicants[i].second}};
    const Actor cit = A("cit" + std::to_string(i + 1), "citizen");
    f.Must(cit, s, "start_enrolment", start);
    f.Must(cit, s, "complete_details",
           {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
    f.Must(cit, s, "submit_enrolment");
    f.Must(kOp, s, "rank_for_service", {{"service", "canteen"}});
  }
  f.Must(kOp, "enrolment-comune-aosta-3", "admit_to_service", {{"service", "canteen"}});
  f.Must(kOp, "enrolment-comune-aosta-2", "place_on_waiting_list", {{"service", "canteen"}});
  f.Must(kOp, "enrolment-comune-aosta-4", "reject_for_service",
         {{"service", "canteen"}, {"reason", "Domanda incompleta"}});
  f.Must(A("cit3", "citizen"), "enrolment-comune-aosta-3", "withdraw_from_service",
         {{"service", "canteen"}});
  f.CatchUp();

  auto rows = f.Rows(RankingsProjection::kName, RankingsProjection::RankingPrefix(
                                                    "comune-aosta", "canteen", "primaria_einaudi"));
  std::vector<std::string> order, outcomes;
  for (const auto& r : rows) {
    json row = json::parse(r.value);
    order.push_back(row["enrolment"]);
    outcomes.push_back(row["outcome"]);
  }
  CHECK(order == std::vector<std::string>{"enrolment-comune-aosta-3", "enrolment-comune-aosta-2",
                                          "enrolment-comune-aosta-1", "enrolment-comune-aosta-4"});
  CHECK(outcomes == std::vector<std::string>{"withdrawn", "waiting", "ranked", "rejected"});
  CHECK(json::parse(rows[3].value)["reason"] == "Domanda incompleta");
  CHECK(f.Row(RankingsProjection::kName,
              RankingsProjection::CountsKey("comune-aosta", "canteen", "primaria_einaudi")) ==
        json({{"ranked", 1}, {"admitted", 0}, {"waiting", 1}, {"rejected", 1}, {"withdrawn", 1}}));
}

TEST_CASE(
    "the applications view lists what each citizen applied for on line, with each service's "
    "outcome, and no paper application",
    "[projections][accounts]") {
  ProjectionFixture f;
  const std::string account = Admitted(f, "enrolment-comune-aosta-1", "canteen",
                                       "primaria_saint_roch", 500'000);
  // A paper application the office entered: the applicant follows it at the counter.
  json paper = {
      {"channel", "paper"},
      {"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
      {"beneficiary",
       {{"name", "Anna Blanc"}, {"tax_code", "BLNNNA16C50A326P"}, {"birth_date", "2016-03-10"}}},
      {"services", {"canteen"}},
      {"site", "primaria_saint_roch"}};
  f.Must(kOp, "enrolment-comune-aosta-2", "start_enrolment", paper);
  f.CatchUp();

  auto mine = f.Rows(ApplicationsProjection::kName,
                     ApplicationsProjection::RequesterPrefix("comune-aosta", "cit1"));
  REQUIRE(mine.size() == 1);
  json row = json::parse(mine[0].value);
  CHECK(row["stream"] == "enrolment-comune-aosta-1");
  CHECK(row["state"] == "submitted");
  CHECK(row["beneficiary_name"] == "Luca Blanc");
  CHECK(row["sequence_numbers"].contains("canteen"));
  CHECK(row["outcomes"]["canteen"]["outcome"] == "admitted");
  CHECK(row["outcomes"]["canteen"]["account"] == account);
  CHECK(f.Rows(ApplicationsProjection::kName,
               ApplicationsProjection::RequesterPrefix("comune-aosta", "op1"))
            .empty());
  // Another tenant's prefix never sees it.
  CHECK(f.Rows(ApplicationsProjection::kName,
               ApplicationsProjection::RequesterPrefix("comune-forli", "cit1"))
            .empty());
}

}  // namespace procedo::testing
