// Debt positions (domain/workflows/payment_position.json): the notice number is allocated from the
// log in the creation's own append, consecutive per station from the Ente's first IUV base, never
// issued twice, and refused with nothing appended where the Ente takes no pagoPA payments.
#include "domain/accounts.h"
#include "domain/payment_notice.h"
#include "domain/payments.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

json Position(int64_t cents) {
  return {
      {"purpose", "enrolment_fee"},
      {"reference", "enrolment-comune-aosta-7"},
      {"description", "Quota di iscrizione al nido 2026/27"},
      {"amount_cents", cents},
      {"due_date", "2026-12-31"},
      {"debtor", {{"type", "F"}, {"fiscal_code", "RSSMRA80A01A326K"}, {"name", "Maria Rossi"}}}};
}

}  // namespace

TEST_CASE("a debt position gets its notice number from the log, in its own append",
          "[payment_position]") {
  WorkflowFixture f;
  const Actor op = A("op1", "operator");
  auto first = f.Must(op, "payment-comune-aosta-1", "create_payment_position", Position(12000));
  REQUIRE(first.append.events.size() == 2);  // the position and its IUV's counter, one append
  const json created = json::parse(first.append.events[0]->data);
  // Aosta's settings: segregation code 02, first IUV base 5000.
  const auto expected = domain::IssueNoticeNumber("02", 5000);
  REQUIRE(expected.ok());
  CHECK(created["notice_number"] == expected->digits());
  CHECK(created["iuv"] == expected->Iuv());
  CHECK(created["iupd"] == "00120100071-payment-comune-aosta-1");
  CHECK(created["creditor_fiscal_code"] == "00120100071");
  CHECK(created["transfers"] ==
        json::parse(R"([{"id": "1", "amount_cents": 12000, "iban": "IT02A0306901211100000046123",
                         "category": "9/0101100IM/"}])"));
  CHECK(created["created_by"] == "op1");
  CHECK(first.append.events[1]->stream == domain::IuvCounterStream("comune-aosta", "02"));
  CHECK(first.append.events[1]->type == "iuv.assigned");
  CHECK(domain::ParseNoticeNumber(created["notice_number"].get<std::string>()).ok());

  // The next one, and a cancelled one's number is never issued again.
  f.Must(op, "payment-comune-aosta-1", "cancel_payment_position", {{"reason", "Rinuncia"}});
  auto second = f.Must(op, "payment-comune-aosta-2", "create_payment_position", Position(500));
  CHECK(json::parse(second.append.events[0]->data)["notice_number"] ==
        domain::IssueNoticeNumber("02", 5001)->digits());
  // Another Ente counts on its own station.
  auto forli = f.Must(A("op9", "operator", "comune-forli"), "payment-comune-forli-1",
                      "create_payment_position", Position(700));
  CHECK(json::parse(forli.append.events[0]->data)["notice_number"] ==
        domain::IssueNoticeNumber("01", 1)->digits());

  // Sent again with its idempotency key: answered from the log, no new number.
  auto keyed = f.Run(op, "payment-comune-aosta-3", "create_payment_position", Position(900), "k-3");
  REQUIRE(keyed.ok());
  const uint64_t head = f.logf.log->LastPosition();
  auto again = f.Run(op, "payment-comune-aosta-3", "create_payment_position", Position(900), "k-3");
  REQUIRE(again.ok());
  CHECK(f.logf.log->LastPosition() == head);
  CHECK(again->append.events[0]->data == keyed->append.events[0]->data);
}

TEST_CASE("a debt position is refused, with nothing appended, where it cannot be paid",
          "[payment_position]") {
  WorkflowFixture f;
  const uint64_t head = f.logf.log->LastPosition();
  // Torino has no domain/payments/comune-torino.json.
  auto torino = f.Run(A("op1", "operator", "comune-torino"), "payment-comune-torino-1",
                      "create_payment_position", Position(100));
  REQUIRE(torino.ok());
  REQUIRE_FALSE(torino->accepted());
  CHECK(torino->rejection->kind == Rejection::Kind::kGuardRefused);
  CHECK(torino->rejection->message.find("domain/payments/comune-torino.json") != std::string::npos);
  for (json bad : {Position(0), Position(-5)}) {
    auto r = f.Run(A("op1", "operator"), "payment-comune-aosta-9", "create_payment_position", bad);
    REQUIRE(r.ok());
    CHECK_FALSE(r->accepted());
  }
  json bad_debtor = Position(100);
  bad_debtor["debtor"]["fiscal_code"] = "not a code";
  auto r =
      f.Run(A("op1", "operator"), "payment-comune-aosta-9", "create_payment_position", bad_debtor);
  REQUIRE(r.ok());
  CHECK_FALSE(r->accepted());
  // A citizen does not create an invoice's position: the Ente does.
  json invoice = Position(100);
  invoice["purpose"] = "invoice";
  invoice["reference"] = "account-comune-aosta-7-nursery";
  invoice["period"] = "2026-09";
  auto citizen =
      f.Run(A("cit1", "citizen"), "payment-comune-aosta-9", "create_payment_position", invoice);
  REQUIRE_FALSE(citizen.ok());
  CHECK(citizen.status().code() == Status::Code::kPermissionDenied);
  CHECK(f.logf.log->LastPosition() == head);
}

TEST_CASE("a citizen asks for a top-up of a prepaid account of theirs, and of no other",
          "[payment_position]") {
  WorkflowFixture f;
  const Actor marta = A("marta", "citizen");
  const Actor op = A("op1", "operator");
  const std::string s = "enrolment-comune-aosta-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  f.Must(marta, s, "start_enrolment", start);
  f.Must(marta, s, "complete_details", {{"details", {{"canteen", SampleAnswers("canteen")}}}});
  f.Must(marta, s, "submit_enrolment");
  f.Must(op, s, "rank_for_service", {{"service", "canteen"}});
  f.Must(op, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = domain::AccountStream(s, "canteen");

  json top_up = Position(2000);
  top_up["purpose"] = "top_up";
  top_up["reference"] = account;
  auto mine = f.Must(marta, "payment-comune-aosta-1", "create_payment_position", top_up);
  const json created = json::parse(mine.append.events[0]->data);
  CHECK(created["created_by"] == "marta");
  CHECK(created["reference"] == account);

  // Someone else's account, one that does not exist and another Comune's read the same, and
  // nothing is appended.
  const uint64_t head = f.logf.log->LastPosition();
  std::vector<std::string> messages;
  for (const auto& [who, reference] :
       std::vector<std::pair<Actor, std::string>>{{A("paolo", "citizen"), account},
                                                  {marta, "account-comune-aosta-99-canteen"},
                                                  {marta, "account-comune-forli-1-canteen"}}) {
    json other = top_up;
    other["reference"] = reference;
    auto r = f.Run(who, "payment-comune-aosta-2", "create_payment_position", other);
    INFO(who.id << " " << reference);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().Is(Status::SubCode::kReferenceMissing));
    CHECK_THAT(r.status().message(), Catch::Contains("is not one of yours"));
  }
  CHECK(f.logf.log->LastPosition() == head);
  // Staff may still create a position for any account of their Ente.
  f.Must(op, "payment-comune-aosta-3", "create_payment_position", top_up);
}

TEST_CASE("euro amounts become cents digit by digit, never through a float", "[payment_position]") {
  CHECK(domain::EuroToCents("120.00") == 12000);
  CHECK(domain::EuroToCents("0.10") == 10);
  CHECK(domain::EuroToCents("999999999.99") == 99999999999);
  for (const char* bad : {"", "12", "12.5", "12.500", ".50", "1,50", "-1.00", "1.0a", "1.00 "}) {
    INFO(bad);
    CHECK_FALSE(domain::EuroToCents(bad).has_value());
  }
  CHECK(domain::CentsToEuro(12000) == "120.00");
  // A due date ends at midnight in Rome: 23:00 UTC in winter, 22:00 in summer.
  CHECK(domain::DueInstantUtc("2026-12-31") == "2026-12-31T22:59:59");
  CHECK(domain::DueInstantUtc("2026-07-31") == "2026-07-31T21:59:59");
  CHECK(domain::DueInstantUtc("2026-03-29") == "2026-03-29T21:59:59");  // the day summer begins
  CHECK(domain::DueInstantUtc("2026-02-30").empty());
  CHECK(domain::DueInstantUtc("31/12/2026").empty());
  CHECK(domain::CentsToEuro(7) == "0.07");
}

namespace {

struct Paid {
  WorkflowFixture f;
  const Actor op = A("op1", "operator");
  const Actor pay = A("pay", Actor::kSystemRole);
  std::string stream = "payment-comune-aosta-1";
  Paid() {
    f.Must(op, stream, "create_payment_position", Position(12000));
    f.Must(pay, stream, "record_publication", {{"platform_status", "VALID"}});
  }
  json Receipt(const std::string& id) {
    json r = MatchingReceipt(f.State(stream));
    r["receipt_id"] = id;
    return r;
  }
  std::vector<std::string> Types(const CommandOutcome& o) {
    std::vector<std::string> out;
    for (const auto& e : o.append.events) out.push_back(e->type);
    return out;
  }
};

}  // namespace

TEST_CASE("a receipt pays its position once; the same receipt again records nothing",
          "[payment_position]") {
  Paid p;
  auto first = p.f.Must(p.pay, p.stream, "record_receipt", p.Receipt("r-1"));
  CHECK(p.Types(first) == std::vector<std::string>{"payment_position.paid"});
  CHECK(p.f.State(p.stream).status == "paid");
  const json paid = json::parse(first.append.events[0]->data);
  CHECK(paid["paid_cents"] == 12000);
  CHECK(paid["receipt_id"] == "r-1");
  // Delivered again without its idempotency key (a poll after a crash): nothing appended.
  const uint64_t head = p.f.logf.log->LastPosition();
  auto again = p.f.Must(p.pay, p.stream, "record_receipt", p.Receipt("r-1"));
  CHECK(again.append.events.empty());
  CHECK(p.f.logf.log->LastPosition() == head);
  // A second, different receipt for the paid position: a second payment, to refund.
  auto second = p.f.Must(p.pay, p.stream, "record_receipt", p.Receipt("r-2"));
  REQUIRE(p.Types(second) == std::vector<std::string>{"payment.anomaly_recorded"});
  CHECK(json::parse(second.append.events[0]->data)["kind"] == "duplicate_payment");
  CHECK(p.f.State(p.stream).status == "paid");
  CHECK(p.f.State(p.stream).fields["receipt_id"] == "r-1");  // the anomaly is not merged
}

TEST_CASE("a receipt that does not match is an anomaly that changes nothing, until settled",
          "[payment_position]") {
  Paid p;
  json wrong = p.Receipt("r-9");
  wrong["amount"] = "12.00";
  auto mismatch = p.f.Must(p.pay, p.stream, "record_receipt", wrong);
  REQUIRE(p.Types(mismatch) == std::vector<std::string>{"payment.anomaly_recorded"});
  const json anomaly = json::parse(mismatch.append.events[0]->data);
  CHECK(anomaly["kind"] == "amount_mismatch");
  CHECK(anomaly["expected_cents"] == 12000);
  CHECK(anomaly["paid_cents"] == 1200);
  CHECK(p.f.State(p.stream).status == "published");
  json other = p.Receipt("r-10");
  other["notice_number"] = "302000000000599999";
  CHECK(json::parse(
            p.f.Must(p.pay, p.stream, "record_receipt", other).append.events[0]->data)["kind"] ==
        "reference_mismatch");
  json ko = p.Receipt("r-11");
  ko["outcome"] = "KO";
  auto refused = p.f.Run(p.pay, p.stream, "record_receipt", ko);
  REQUIRE(refused.ok());
  CHECK_FALSE(refused->accepted());

  // Settled by an operator, once; an anomaly that is not open cannot be settled.
  auto settled = p.f.Must(p.op, p.stream, "settle_payment_anomaly",
                          {{"receipt_id", "r-9"}, {"resolution", "Rimborsati 12,00 euro"}});
  CHECK(json::parse(settled.append.events[0]->data)["kind"] == "amount_mismatch");
  auto twice = p.f.Run(p.op, p.stream, "settle_payment_anomaly",
                       {{"receipt_id", "r-9"}, {"resolution", "di nuovo"}});
  REQUIRE(twice.ok());
  CHECK_FALSE(twice->accepted());

  // The right receipt still pays it.
  p.f.Must(p.pay, p.stream, "record_receipt", p.Receipt("r-12"));
  CHECK(p.f.State(p.stream).status == "paid");
}

TEST_CASE("a payment of a cancelled or expired position is an anomaly, never a credit",
          "[payment_position]") {
  Paid cancelled;
  cancelled.f.Must(cancelled.op, cancelled.stream, "cancel_payment_position",
                   {{"reason", "Iscrizione ritirata"}});
  auto c =
      cancelled.f.Must(cancelled.pay, cancelled.stream, "record_receipt", cancelled.Receipt("r-1"));
  CHECK(json::parse(c.append.events[0]->data)["kind"] == "position_cancelled");
  CHECK(cancelled.f.State(cancelled.stream).status == "cancelled");
  Paid expired;
  expired.f.Must(expired.pay, expired.stream, "record_expiry", {{"platform_status", "EXPIRED"}});
  auto e = expired.f.Must(expired.pay, expired.stream, "record_receipt", expired.Receipt("r-1"));
  CHECK(json::parse(e.append.events[0]->data)["kind"] == "position_expired");
  CHECK(expired.f.State(expired.stream).status == "expired");
}

}  // namespace procedo::testing
