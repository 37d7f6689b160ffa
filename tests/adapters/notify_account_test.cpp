// A prepaid account's low-credit alert, told by the notifier on the channels the holder chose:
// once per crossing, with the balance and threshold in euro, and nothing for the meals between.
#include <catch2/catch.hpp>

#include "domain/accounts.h"
#include "domain/sample_payloads.h"
#include "notify_fixture.h"

using namespace procedo;
using namespace procedo::projections;
using nlohmann::json;
using procedo::testing::NotifyFixture;
using procedo::testing::RecordingSender;
using procedo::testing::SamplePayload;

namespace {

const Actor kOperator{"op1", "operator", "comune-aosta"};
const Actor kCitizen{"cit1", "citizen", "comune-aosta"};

void Run(NotifyFixture& f, const Actor& who, const std::string& stream, const std::string& name,
         json payload = json::object()) {
  Command c;
  c.stream = stream;
  c.name = name;
  c.payload = std::move(payload);
  auto r = f.commands->Handle(c, who);
  INFO(name << " on " << stream << ": "
            << (r.ok() ? (r->accepted() ? "" : r->rejection->message) : r.status().ToString()));
  REQUIRE(r.ok());
  REQUIRE(r->accepted());
}

json Meal(int n) {
  return {{"movement_id", "M" + std::to_string(n)},
          {"date", "2026-09-22"},
          {"site", "primaria_saint_roch"}};
}

}  // namespace

TEST_CASE("the low-credit alert goes by e-mail and SMS, once per crossing", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  const std::string s = "enrolment-comune-aosta-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  Run(f, kCitizen, s, "start_enrolment", start);
  Run(f, kCitizen, s, "complete_details",
      {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
  Run(f, kCitizen, s, "submit_enrolment");
  Run(f, kOperator, s, "rank_for_service", {{"service", "canteen"}});
  Run(f, kOperator, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = domain::AccountStream(s, "canteen");
  Run(f, kCitizen, account, "set_low_credit_alert",
      {{"channels", {"email", "sms"}},
       {"threshold_cents", 1500},
       {"email", "carla@example.it"},
       {"phone", "+39 333 1112223"}});
  Run(f, kOperator, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 2000}});
  for (int n = 1; n <= 3; ++n)
    Run(f, kOperator, account, "record_usage", Meal(n));  // 1480, 960, 440

  Notifier notifier(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(notifier.CatchUp().ok());
  f.Settle(notifier);
  REQUIRE(sender.sent.size() == 2);
  for (const auto& m : sender.sent) {
    CHECK(m.source_type == "account.low_credit_reached");
    CHECK(m.source_stream == account);
    if (m.channel == "email") {
      CHECK(m.recipient == "carla@example.it");
      CHECK(m.subject == "Credito basso: Mensa scolastica di Luca Blanc");
      CHECK_THAT(m.body, Catch::Contains("è sceso a € 14,80, sotto la soglia di € 15,00"));
    } else {
      CHECK(m.recipient == "+39 333 1112223");
      CHECK(m.body ==
            "Credito Mensa scolastica di Luca Blanc: € 14,80, sotto la soglia di € 15,00. "
            "Ricarichi dal portale dei servizi.");
    }
  }
}
