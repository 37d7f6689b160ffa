// The pagoPA GPD client's own formats: the create body it sends (amounts in cents, one transfer
// summing to the option, the Ente's expiry choice) and the receipts it reads, as GPD-payments
// stores them (no namespace) or qualified.
#include "adapters/pagopa/gpd_client.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace procedo::testing {
namespace {

using nlohmann::json;
using pagopa::GpdClient;

const char* kReceipt = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PaSendRTV2Request xmlns:ns2="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">
    <idPA>80012345678</idPA>
    <receipt>
        <receiptId>c3f1e2a4b5d64e7f8a9b0c1d2e3f4a5b</receiptId>
        <noticeNumber>301000000000004285</noticeNumber>
        <fiscalCode>80012345678</fiscalCode>
        <outcome>OK</outcome>
        <creditorReferenceId>01000000000004285</creditorReferenceId>
        <paymentAmount>120.00</paymentAmount>
        <debtor><fullName>Mario &amp; Rossi</fullName></debtor>
        <PSPCompanyName>Banca di Esempio</PSPCompanyName>
        <paymentMethod>CP</paymentMethod>
        <paymentDateTime>2026-09-15T10:20:30</paymentDateTime>
    </receipt>
</PaSendRTV2Request>)";

}  // namespace

TEST_CASE("a stored receipt is read by its elements' local names", "[pagopa]") {
  auto r = GpdClient::ParseReceipt(kReceipt);
  REQUIRE(r.ok());
  CHECK(r->receipt_id == "c3f1e2a4b5d64e7f8a9b0c1d2e3f4a5b");
  CHECK(r->notice_number == "301000000000004285");
  CHECK(r->iuv == "01000000000004285");
  CHECK(r->creditor_fiscal_code == "80012345678");
  CHECK(r->amount == "120.00");
  CHECK(r->outcome == "OK");
  CHECK(r->paid_at == "2026-09-15T10:20:30");
  CHECK(r->method == "CP");
  CHECK(r->psp == "Banca di Esempio");

  // The same content as a marshaller that qualifies every element writes it.
  const std::string qualified = R"(<pafn:paSendRTV2Request
      xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">
    <pafn:receipt>
      <pafn:receiptId>c3f1e2a4b5d64e7f8a9b0c1d2e3f4a5b</pafn:receiptId>
      <pafn:noticeNumber>301000000000004285</pafn:noticeNumber>
      <pafn:paymentAmount>120.00</pafn:paymentAmount>
    </pafn:receipt>
  </pafn:paSendRTV2Request>)";
  auto q = GpdClient::ParseReceipt(qualified);
  REQUIRE(q.ok());
  CHECK(q->receipt_id == r->receipt_id);
  CHECK(q->amount == "120.00");
}

TEST_CASE("a receipt that is not one is refused with the reason", "[pagopa]") {
  auto broken = GpdClient::ParseReceipt("<PaSendRTV2Request><receipt>");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Contains("not well-formed"));
  auto empty = GpdClient::ParseReceipt("<PaSendRTV2Request/>");
  REQUIRE_FALSE(empty.ok());
  CHECK_THAT(empty.status().message(), Catch::Contains("no <receipt>"));
  auto partial = GpdClient::ParseReceipt(
      "<PaSendRTV2Request><receipt><receiptId>x</receiptId></receipt></PaSendRTV2Request>");
  REQUIRE_FALSE(partial.ok());
  CHECK_THAT(partial.status().message(), Catch::Contains("paymentAmount"));
}

TEST_CASE("the create body carries the position's own numbers and the Ente's settings",
          "[pagopa]") {
  domain::PaymentSettings s;
  s.creditor_fiscal_code = "00120100071";
  s.creditor_name = "Comune di Aosta";
  s.office = "Servizi educativi";
  s.iban = "IT02A0306901211100000046123";
  s.expire_at_due_date = true;
  projections::PositionToPublish p;
  p.org = s.creditor_fiscal_code;
  p.iupd = "00120100071-payment-comune-aosta-1";
  p.iuv = "02000000000500077";
  p.notice_number = "302000000000500077";
  p.description = "Ricarica mensa";
  p.amount_cents = 2500;
  p.due_utc = "2026-12-31T22:59:59";
  p.debtor_type = "F";
  p.debtor_fiscal_code = "RSSMRT80A41A326X";
  p.debtor_name = "Marta Rossi";
  p.settings = &s;
  p.category = "9/0101100IM/";
  const json body = json::parse(GpdClient::PositionBody(p));
  CHECK(body["iupd"] == p.iupd);
  CHECK(body["companyName"] == "Comune di Aosta");
  CHECK(body["officeName"] == "Servizi educativi");
  CHECK(body["switchToExpired"] == true);
  REQUIRE(body["paymentOption"].size() == 1);
  const json& o = body["paymentOption"][0];
  CHECK(o["iuv"] == p.iuv);
  CHECK(o["nav"] == p.notice_number);
  CHECK(o["amount"] == 2500);
  CHECK(o["dueDate"] == "2026-12-31T22:59:59");
  CHECK(o["isPartialPayment"] == false);
  REQUIRE(o["transfer"].size() == 1);
  CHECK(o["transfer"][0]["amount"] == 2500);
  CHECK(o["transfer"][0]["iban"] == s.iban);
  CHECK(o["transfer"][0]["category"] == "9/0101100IM/");
}

}  // namespace procedo::testing
