// The payment notice (adapters/web/payment_notice.h): amounts and dates as pagoPA's notice writes
// them, the QR code of the notice's payload, the codice avviso in groups of four, every value
// escaped on the page, and who may open it: for anyone else it does not exist, exactly as a
// position that does not.
#include "adapters/web/payment_notice.h"

#include <catch2/catch.hpp>
#include <map>

#include "adapters/web/site.h"
#include "domain/payment_notice.h"

namespace procedo::web {
namespace {

using nlohmann::json;

domain::PaymentSettings Aosta() {
  domain::PaymentSettings s;
  s.creditor_fiscal_code = "00120100071";
  s.creditor_name = "Comune di Aosta";
  s.office = "Servizi scolastici";
  s.info = "www.comune.aosta.it · 0165 300 300";
  s.cbill = "A1B2C";
  s.segregation_code = "02";
  return s;
}

std::shared_ptr<const WorkflowState> State(const std::string& stream, const std::string& tenant,
                                           const std::string& status, json fields) {
  auto s = std::make_shared<WorkflowState>();
  s->stream = stream;
  s->tenant = tenant;
  s->status = status;
  s->version = 1;
  s->fields = std::move(fields);
  return s;
}

json Position(const std::string& reference, const std::string& debtor_name = "Marta Rossi") {
  return {{"purpose", "top_up"},
          {"reference", reference},
          {"description", "Ricarica Mensa scolastica"},
          {"amount_cents", 102099},
          {"due_date", "2026-12-31"},
          {"notice_number", domain::IssueNoticeNumber("02", 5000)->digits()},
          {"debtor", {{"type", "F"}, {"fiscal_code", "RSSMRT80A41A326X"}, {"name", debtor_name}}}};
}

// Marta's account and Forlì's, as the command handler folds them, and two positions as the
// payments view keeps them: one for her account, one whose account is another Ente's.
struct Log {
  std::map<std::string, std::shared_ptr<const WorkflowState>> states;
  std::map<std::string, json> rows;
  Log() {
    states["account-comune-aosta-1-canteen"] =
        State("account-comune-aosta-1-canteen", "comune-aosta", "open", {{"holder", "marta"}});
    states["account-comune-forli-1-canteen"] =
        State("account-comune-forli-1-canteen", "comune-forli", "open", {{"holder", "marta"}});
    for (const auto& [stream, reference] :
         {std::pair{"payment-comune-aosta-1", "account-comune-aosta-1-canteen"},
          std::pair{"payment-comune-aosta-2", "account-comune-forli-1-canteen"}}) {
      json row = Position(reference);
      row["stream"] = stream;
      row["tenant"] = "comune-aosta";
      row["status"] = "published";
      rows[stream] = row;
    }
  }
  // The view is read under the reader's tenant, as the pages read it.
  PositionRowOf RowOf(const std::string& tenant) const {
    return [this, tenant](const std::string& stream) -> Result<std::optional<json>> {
      auto it = rows.find(stream);
      if (it == rows.end() || it->second["tenant"] != tenant) return std::optional<json>();
      return std::optional<json>(it->second);
    };
  }
  StateOf StateOfStream() const {
    return [this](const std::string& stream) -> Result<std::shared_ptr<const WorkflowState>> {
      auto it = states.find(stream);
      if (it == states.end()) return std::make_shared<const WorkflowState>();
      return it->second;
    };
  }
};

}  // namespace

TEST_CASE("amounts and dates as the notice writes them", "[payment_notice]") {
  CHECK(NoticeAmount(102099) == "1.020,99 €");
  CHECK(NoticeAmount(2000) == "20,00 €");
  CHECK(NoticeAmount(5) == "0,05 €");
  CHECK(NoticeAmount(99999999999) == "999.999.999,99 €");
  CHECK(NoticeDate("2026-12-31") == "31/12/2026");
  CHECK(NoticeDate("senza data") == "senza data");
}

TEST_CASE("the notice carries the printed code and the QR code of pagoPA's payload",
          "[payment_notice]") {
  json row = Position("account-comune-aosta-1-canteen");
  row["status"] = "published";
  const json d = NoticeData(row, Aosta(), "da pagare");
  const auto number = domain::IssueNoticeNumber("02", 5000);
  CHECK(d["code"] == number->Printed());
  CHECK(d["code"].get<std::string>().size() == 22);
  CHECK(d["amount"] == "1.020,99 €");
  CHECK(d["due"] == "31/12/2026");
  CHECK(d["payable"] == true);
  const std::string payload = number->QrPayload("00120100071", 102099);
  CHECK(payload == "PAGOPA|002|" + number->digits() + "|00120100071|102099");
  CHECK(d["qr"] == QrSvg(payload, "Codice QR dell'avviso " + number->Printed()));

  // Version 4 (33 modules) with the quiet zone: 41 units; the three finder patterns' top rows,
  // seven dark modules each, at the corners.
  const std::string svg = d["qr"];
  CHECK(svg.find("viewBox=\"0 0 41 41\"") != std::string::npos);
  CHECK(svg.find("M4 4h7v1h-7z") != std::string::npos);
  CHECK(svg.find("M30 4h7v1h-7z") != std::string::npos);
  CHECK(svg.find("M4 30h7v1h-7z") != std::string::npos);
  CHECK(svg.find("role=\"img\"") != std::string::npos);
  CHECK(svg.find("<title>Codice QR dell&#39;avviso " + number->Printed() + "</title>") !=
        std::string::npos);
  // A longer payload needs a larger symbol, never a smaller one.
  CHECK(QrSvg(std::string(120, '7'), "x").find("viewBox=\"0 0 41 41\"") == std::string::npos);

  // Paid, cancelled or expired: no QR code to pay it with.
  for (const char* status : {"paid", "cancelled", "expired"}) {
    row["status"] = status;
    CHECK(NoticeData(row, Aosta(), status)["payable"] == false);
  }
}

TEST_CASE("every value on the notice page is escaped", "[payment_notice]") {
  auto site = Site::Load(std::string(PROCEDO_SOURCE_DIR) + "/adapters/web");
  REQUIRE(site.ok());
  json row = Position("account-comune-aosta-1-canteen", "<script>alert(1)</script>");
  row["description"] = "Ricarica <b>mensa</b>";
  row["debtor"]["fiscal_code"] = "\"><img src=x>";
  row["status"] = "published";
  domain::PaymentSettings s = Aosta();
  s.creditor_name = "Comune <i>di</i> Aosta";
  s.office = "Uffici & servizi";
  s.info = "<a href=x>sito</a>";
  s.cbill = "<CB>";
  json d = NoticeData(row, s, "<da pagare>");
  d["back"] = "/servizi/posizioni/account-comune-aosta-1-canteen";
  d["back_label"] = "Torna alla posizione";
  const std::string html = (*site)->Render("payment_notice", "Avviso di pagamento", d);
  for (const char* raw : {"<script>", "<b>mensa", "<img", "<i>di", "& servizi", "<a href=x>",
                          "<CB>", "<da pagare>"}) {
    INFO(raw);
    CHECK(html.find(raw) == std::string::npos);
  }
  for (const char* escaped :
       {"&lt;script&gt;alert(1)&lt;/script&gt;", "Ricarica &lt;b&gt;mensa&lt;/b&gt;",
        "&quot;&gt;&lt;img src=x&gt;", "Comune &lt;i&gt;di&lt;/i&gt; Aosta", "Uffici &amp; servizi",
        "&lt;a href=x&gt;sito&lt;/a&gt;", "&lt;CB&gt;", "&lt;da pagare&gt;", "1.020,99 €",
        "31/12/2026", "<svg class=\"avviso-qr\""}) {
    INFO(escaped);
    CHECK(html.find(escaped) != std::string::npos);
  }
}

TEST_CASE("a notice is the citizen's whose account it tops up, and the Ente's staff's",
          "[payment_notice]") {
  const Log log;
  auto read = [&log](const Principal& who, const std::string& stream) {
    auto r = ReadablePosition(who, stream, log.RowOf(who.tenant), log.StateOfStream());
    REQUIRE(r.ok());
    return *r;
  };
  const Principal marta{"marta", "citizen", "comune-aosta"};
  const Principal paolo{"paolo", "citizen", "comune-aosta"};
  const Principal olga{"olga", "operator", "comune-aosta"};
  const Principal fabio{"fabio", "operator", "comune-forli"};

  auto mine = read(marta, "payment-comune-aosta-1");
  REQUIRE(mine.has_value());
  CHECK((*mine)["status"] == "published");
  CHECK((*mine)["tenant"] == "comune-aosta");
  CHECK((*mine)["amount_cents"] == 102099);
  CHECK(read(olga, "payment-comune-aosta-1").has_value());

  // Someone else, another Ente's staff, a position whose account is another Ente's, a stream
  // that is no debt position: all as a position that does not exist.
  const auto missing = read(paolo, "payment-comune-aosta-9");
  CHECK_FALSE(missing.has_value());
  CHECK(read(paolo, "payment-comune-aosta-1") == missing);
  CHECK(read(fabio, "payment-comune-aosta-1") == missing);
  CHECK(read(marta, "payment-comune-aosta-2") == missing);
  CHECK(read(marta, "account-comune-aosta-1-canteen") == missing);
  CHECK(read(marta, "payment-comune-aosta-9") == missing);
}

}  // namespace procedo::web
