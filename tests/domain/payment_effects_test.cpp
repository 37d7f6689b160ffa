// What a payment changes beyond its position: each purpose names what it pays, an application
// fee must be paid before the enrolment is submitted, and a receipt settles an invoice once.
#include "domain/accounts.h"
#include "domain/payments.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

const Actor kForliCitizen = A("cit7", "citizen", "comune-forli");
const Actor kPayments = Actor::System("payments", "comune-forli");

json Position(const std::string& purpose, const std::string& reference) {
  return {
      {"purpose", purpose},
      {"reference", reference},
      {"description", "Quota di iscrizione al nido"},
      {"amount_cents", 3000},
      {"due_date", "2026-12-31"},
      {"debtor", {{"type", "F"}, {"fiscal_code", "BNCLCU80A01D704X"}, {"name", "Lucia Bianchi"}}}};
}

}  // namespace

TEST_CASE("a debt position names what it pays", "[payment_effects]") {
  WorkflowFixture f;
  const Actor op = A("op1", "operator");
  for (auto [purpose, reference] : std::vector<std::pair<std::string, std::string>>{
           {"top_up", "enrolment-comune-aosta-1"},
           {"enrolment_fee", "account-comune-aosta-1-canteen"},
           {"invoice", "account-comune-aosta-1-nursery"}}) {  // an invoice without its period
    INFO(purpose << " for " << reference);
    auto r = f.Run(op, "payment-comune-aosta-1", "create_payment_position",
                   Position(purpose, reference));
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->accepted());
    CHECK(r->rejection->guard == "payment_names_what_it_pays");
  }
  json invoice = Position("invoice", "account-comune-aosta-1-nursery");
  invoice["period"] = "2026-09";
  f.Must(op, "payment-comune-aosta-1", "create_payment_position", invoice);
  CHECK(f.State("payment-comune-aosta-1").fields["period"] == "2026-09");
}

TEST_CASE("an application fee is paid before the enrolment is submitted", "[payment_effects]") {
  WorkflowFixture f;
  const std::string s = "enrolment-comune-forli-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"nursery"};  // Forlì's nursery asks 30,00 euro with the application
  start["site"] = "nido_il_girasole";
  f.Must(kForliCitizen, s, "start_enrolment", start);
  f.Must(kForliCitizen, s, "complete_details",
         {{"details",
           {{"nursery",
             {{"attendance", "full_time"},
              {"start_date", "2027-01-11"},
              {"both_parents_working", true}}}}}});
  auto early = f.Run(kForliCitizen, s, "submit_enrolment", json::object());
  REQUIRE(early.ok());
  REQUIRE_FALSE(early->accepted());
  CHECK(early->rejection->guard == "application_fee_paid");
  CHECK_THAT(early->rejection->message, Catch::Contains("30.00 euro"));
  // Only the payments reactor records it, from a receipt.
  const json fee = {{"fee_payment", "payment-comune-forli-3"},
                    {"fee_receipt_id", "RCPT-FEE"},
                    {"fee_paid_cents", 3000}};
  auto citizen = f.Run(kForliCitizen, s, "record_application_fee", fee);
  REQUIRE(citizen.ok());
  CHECK_FALSE(citizen->accepted());
  f.Must(kPayments, s, "record_application_fee", fee);
  f.Must(kForliCitizen, s, "submit_enrolment");
  CHECK(f.State(s).status == "submitted");
}

TEST_CASE("a citizen asks for the application fee her application owes, exactly that",
          "[payment_effects]") {
  WorkflowFixture f;
  const std::string s = "enrolment-comune-forli-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"nursery"};
  start["site"] = "nido_il_girasole";
  f.Must(kForliCitizen, s, "start_enrolment", start);
  json fee = Position("enrolment_fee", s);
  const uint64_t head = f.logf.log->LastPosition();
  // Not the amount the catalogue asks (30,00 euro): refused, nothing appended.
  fee["amount_cents"] = 100;
  auto less = f.Run(kForliCitizen, "payment-comune-forli-1", "create_payment_position", fee);
  REQUIRE_FALSE(less.ok());
  CHECK_THAT(less.status().message(), Catch::Contains("30.00 euro"));
  // Another citizen's application, or one that does not exist, reads the same.
  fee["amount_cents"] = 3000;
  for (const auto& [who, reference] :
       std::vector<std::pair<Actor, std::string>>{{A("cit8", "citizen", "comune-forli"), s},
                                                  {kForliCitizen, "enrolment-comune-forli-99"}}) {
    json other = fee;
    other["reference"] = reference;
    auto r = f.Run(who, "payment-comune-forli-2", "create_payment_position", other);
    INFO(who.id << " " << reference);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().Is(Status::SubCode::kReferenceMissing));
  }
  CHECK(f.logf.log->LastPosition() == head);
  auto mine = f.Must(kForliCitizen, "payment-comune-forli-1", "create_payment_position", fee);
  CHECK(json::parse(mine.append.events[0]->data)["reference"] == s);
  // Paid: nothing is owed any more, so a second position is refused.
  f.Must(kPayments, s, "record_application_fee",
         {{"fee_payment", "payment-comune-forli-1"},
          {"fee_receipt_id", "RCPT-FEE"},
          {"fee_paid_cents", 3000}});
  auto again = f.Run(kForliCitizen, "payment-comune-forli-3", "create_payment_position", fee);
  REQUIRE_FALSE(again.ok());
  CHECK_THAT(again.status().message(), Catch::Contains("owes no application fee"));
  // An application whose services ask no fee owes none either.
  const std::string canteen = "enrolment-comune-forli-2";
  json plain = SamplePayload("start_enrolment");
  plain["services"] = {"canteen"};
  plain["site"] = "primaria_saffi";
  f.Must(kForliCitizen, canteen, "start_enrolment", plain);
  fee["reference"] = canteen;
  auto none = f.Run(kForliCitizen, "payment-comune-forli-4", "create_payment_position", fee);
  REQUIRE_FALSE(none.ok());
  CHECK_THAT(none.status().message(), Catch::Contains("owes no application fee"));
}

TEST_CASE("a receipt settles an invoice once, with its exact amount", "[payment_effects]") {
  WorkflowFixture f;  // 2026-09-21
  const Actor op = A("op1", "operator");
  const std::string s = "enrolment-comune-aosta-1";
  const Actor cit = A("cit1", "citizen");
  json start = SamplePayload("start_enrolment");
  start["services"] = {"home_care"};
  start["site"] = "domicilio";
  start["isee_cents"] = 1'000'000;
  f.Must(cit, s, "start_enrolment", start);
  f.Must(cit, s, "complete_details", {{"details", {{"home_care", SampleAnswers("home_care")}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(op, s, "rank_for_service", {{"service", "home_care"}});
  f.Must(op, s, "admit_to_service", {{"service", "home_care"}});
  const std::string account = domain::AccountStream(s, "home_care");
  f.Must(op, account, "record_usage",
         {{"movement_id", "H1"}, {"date", "2026-09-22"}, {"site", "domicilio"}, {"quantity", 5}});
  const Actor sys = Actor::System("payments", "comune-aosta");
  const json settle = {{"period", "2026-09"}, {"receipt_id", "RCPT-9"}, {"amount_cents", 4500}};
  auto before = f.Run(sys, account, "settle_invoice", settle);
  REQUIRE(before.ok());
  CHECK_FALSE(before->accepted());                    // no invoice yet
  f.logf.clock.Advance(std::chrono::hours(24 * 10));  // 1 October
  f.Must(Actor::System("billing", "comune-aosta"), account, "issue_invoice",
         {{"period", "2026-09"}});
  json wrong = settle;
  wrong["amount_cents"] = 4400;
  auto short_paid = f.Run(sys, account, "settle_invoice", wrong);
  REQUIRE(short_paid.ok());
  CHECK_FALSE(short_paid->accepted());
  auto paid = f.Must(sys, account, "settle_invoice", settle);
  CHECK(paid.append.events.size() == 1);
  auto again = f.Must(sys, account, "settle_invoice", settle);
  CHECK(again.append.events.empty());  // the same receipt again
  json other = settle;
  other["receipt_id"] = "RCPT-10";
  auto second = f.Run(sys, account, "settle_invoice", other);
  REQUIRE(second.ok());
  REQUIRE_FALSE(second->accepted());
  CHECK_THAT(second->rejection->message, Catch::Contains("paid already"));
}

}  // namespace procedo::testing
