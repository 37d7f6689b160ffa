// Debt positions (domain/workflows/payment_position.json): the notice number is allocated from the
// log in the creation's own append, consecutive per station from the Ente's first IUV base, never
// issued twice, and refused with nothing appended where the Ente takes no pagoPA payments.
#include "domain/payment_notice.h"
#include "domain/payments.h"
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
  // A citizen does not create debt positions: the Ente does.
  auto citizen = f.Run(A("cit1", "citizen"), "payment-comune-aosta-9", "create_payment_position",
                       Position(100));
  REQUIRE(citizen.ok());
  CHECK_FALSE(citizen->accepted());
  CHECK(f.logf.log->LastPosition() == head);
}

}  // namespace procedo::testing
