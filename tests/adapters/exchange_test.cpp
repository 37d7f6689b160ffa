// The exchange layout (adapters/exchange, schemas/exchange.xsd) over a real log and the real
// domain: applications, uses and payments made elsewhere come in as commands, each bad record is
// reported with its line and the rest applied, a file sent twice changes nothing, a broken file
// is refused whole, and the submitted applications go out in the same layout.
#include "adapters/exchange/exchange.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pugixml.hpp>

#include "domain/workflow_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const Actor kOp = A("op1", "operator");

struct Exchange {
  explicit Exchange(std::string domain_dir = SourceDir() + "/domain") : f(std::move(domain_dir)) {}
  WorkflowFixture f;
  std::shared_ptr<const exchange::ExchangeSchema> schema =
      exchange::ExchangeSchema::Load(SourceDir() + "/schemas/exchange.xsd").value();

  Result<exchange::ImportReport> Import(const std::string& xml, const Actor& who = kOp) {
    return exchange::Import(xml, *schema, *f.domain->services, *f.handler,
                            exchange::ImportOptions{who});
  }
  exchange::ImportReport MustImport(const std::string& xml) {
    auto r = Import(xml);
    INFO((r.ok() ? "" : r.status().message()));
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

std::string Doc(const std::string& records, const std::string& tenant = "comune-aosta") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<exchange xmlns=\"urn:procedo:exchange:1\" "
         "tenant=\"" +
         tenant + "\">\n" + records + "</exchange>\n";
}

std::string Enrolment(const std::string& id, const std::string& service = "canteen") {
  return fmt::format(
      "  <enrolment id=\"{}\">\n"
      "    <applicant><name>Marta Rossi</name><tax_code>RSSMRT80A41A326X</tax_code>"
      "<email>marta@example.it</email></applicant>\n"
      "    <beneficiary><name>Luca Rossi</name><tax_code>RSSLCU15C10A326Y</tax_code>"
      "<birth_date>2015-03-10</birth_date></beneficiary>\n"
      "    <service>{}</service><site>primaria_saint_roch</site><isee_cents>700000</isee_cents>"
      "<resident>true</resident>\n"
      "    <answer service=\"{}\" question=\"diet\">standard</answer>"
      "<answer service=\"{}\" question=\"days_per_week\">5</answer>\n"
      "  </enrolment>\n",
      id, service, service, service);
}

std::string Usage(const std::string& id, const std::string& account,
                  const std::string& date = "2026-11-03", const std::string& extra = "") {
  return fmt::format(
      "  <usage id=\"{}\" account=\"{}\" date=\"{}\" site=\"primaria_saint_roch\"{}/>\n", id,
      account, date, extra);
}

std::string TopUp(const std::string& id, const std::string& account, int64_t cents) {
  return fmt::format(
      "  <top_up id=\"{}\" account=\"{}\" date=\"2026-11-02\" amount_cents=\"{}\"/>\n", id, account,
      cents);
}

// The submitted applications of the export, by their record: stream and canteen number.
std::vector<std::pair<std::string, int>> Exported(Exchange& x) {
  auto xml = exchange::ExportEnrolments(*x.f.logf.log, "comune-aosta", "");
  REQUIRE(xml.ok());
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml->c_str()));
  std::vector<std::pair<std::string, int>> out;
  for (auto n : doc.child("exchange").children("submitted_enrolment")) {
    out.emplace_back(n.attribute("stream").as_string(),
                     n.child("sequence").attribute("number").as_int());
  }
  return out;
}

// An imported application admitted to the canteen: its account.
std::string Admit(Exchange& x, const std::string& enrolment) {
  x.f.Must(kOp, enrolment, "rank_for_service", {{"service", "canteen"}});
  auto admitted = x.f.Must(kOp, enrolment, "admit_to_service", {{"service", "canteen"}});
  for (const auto& e : admitted.append.events) {
    if (e->type == "account.opened") return e->stream;
  }
  FAIL("the admission opened no account");
  return "";
}

int64_t Balance(Exchange& x, const std::string& account) {
  return x.f.State(account).derived["account_ledger"].value("balance_cents", int64_t{0});
}

}  // namespace

TEST_CASE("an application made elsewhere, its meals and a payment come in once", "[exchange]") {
  Exchange x;
  auto first = x.MustImport(Doc(Enrolment("MUSE-1")));
  CHECK(first.records == 1);
  CHECK(first.applied == 1);
  CHECK(first.problems.empty());
  auto exported = Exported(x);
  REQUIRE(exported.size() == 1);
  CHECK(exported[0].second == 1);  // the canteen's first number, as for any paper application
  const std::string account = Admit(x, exported[0].first);

  const std::string file = Doc(Enrolment("MUSE-1") + TopUp("PAY-1", account, 2000) +
                               Usage("M-1", account) + Usage("M-2", account, "2026-11-04"));
  auto report = x.MustImport(file);
  CHECK(report.records == 4);
  CHECK(report.applied == 3);
  CHECK(report.unchanged == 1);  // the application, imported before
  CHECK(report.problems.empty());
  const int64_t balance = Balance(x, account);
  CHECK(balance < 2000);  // two meals charged

  // The whole file again: nothing appended, nothing counted twice.
  const uint64_t head = x.f.logf.log->LastPosition();
  auto again = x.MustImport(file);
  CHECK(again.applied == 0);
  CHECK(again.unchanged == 4);
  CHECK(again.problems.empty());
  CHECK(x.f.logf.log->LastPosition() == head);
  CHECK(Balance(x, account) == balance);
  CHECK(Exported(x).size() == 1);
}

TEST_CASE("each bad record is reported with its line; the others are applied", "[exchange]") {
  Exchange x;
  x.MustImport(Doc(Enrolment("MUSE-1")));
  const std::string account = Admit(x, Exported(x).at(0).first);
  x.MustImport(Doc(Usage("M-1", account)));
  const uint64_t streams_before = x.f.logf.log->LastPosition();

  const std::string file = Doc(                                    // lines 1-2
      Usage("M-2", account) +                                      // 3: applied
      Usage("M-3", account, "2026-11-31") +                        // 4: no such day (XSD)
      Usage("M-4", account, "2026-11-05", " quantity=\"-2\"") +    // 5: negative (XSD)
      Usage("M-5", "account-comune-aosta-999-canteen") +           // 6: no such account
      Usage("M-6", account, "2026-11-05", " tariff=\"dinner\"") +  // 7: not a tariff
      Usage("M-1", account, "2026-11-09") +                        // 8: id used, other content
      Enrolment("MUSE-2", "swimming_pool") +                       // 9-14: not offered
      TopUp("PAY-9", account, 1500));                              // 15: applied
  auto report = x.MustImport(file);
  CHECK(report.records == 8);
  CHECK(report.applied == 2);
  std::vector<size_t> lines;
  for (const auto& p : report.problems) {
    INFO("line " << p.line << " " << p.record << ": " << p.reason);
    lines.push_back(p.line);
    CHECK_FALSE(p.reason.empty());
  }
  CHECK(lines == std::vector<size_t>{4, 5, 6, 7, 8, 9});
  CHECK(report.problems[0].kind == exchange::RecordProblem::Kind::kLayout);
  CHECK(report.problems[1].kind == exchange::RecordProblem::Kind::kLayout);
  CHECK(report.problems[2].kind == exchange::RecordProblem::Kind::kRefused);
  CHECK(report.problems[2].reason.find("has no account") != std::string::npos);
  CHECK(report.problems[5].record == "enrolment MUSE-2");
  // The refused application left nothing behind: no draft, no number taken.
  CHECK(Exported(x).size() == 1);
  auto all = x.f.logf.log->ReadAll(streams_before + 1, 1000);
  REQUIRE(all.ok());
  for (const auto& e : *all) CHECK(e.stream == account);
}

TEST_CASE("a movement's id twice in one file: the same content once, other content refused",
          "[exchange]") {
  Exchange x;
  x.MustImport(Doc(Enrolment("MUSE-1") + Enrolment("MUSE-2")));
  const auto exported = Exported(x);
  REQUIRE(exported.size() == 2);
  const std::string account = Admit(x, exported[0].first);
  const std::string other = Admit(x, exported[1].first);
  x.MustImport(Doc(TopUp("PAY-1", account, 2000)));
  const int64_t before = Balance(x, account);

  const std::string file = Doc(              // lines 1-2
      Usage("M-1", account) +                // 3: applied
      Usage("M-1", account) +                // 4: the same record again: once
      Usage("M-1", account, "2026-11-09") +  // 5: its id, other content
      Usage("M-2", account) +                // 6: applied, after the refusal
      Usage("M-1", other));                  // 7: the record's id, another account
  auto report = x.MustImport(file);
  CHECK(report.records == 5);
  CHECK(report.applied == 2);
  CHECK(report.unchanged == 1);
  std::vector<size_t> lines;
  for (const auto& p : report.problems) {
    INFO("line " << p.line << " " << p.record << ": " << p.reason);
    lines.push_back(p.line);
    CHECK_FALSE(p.reason.empty());
  }
  CHECK(lines == std::vector<size_t>{5, 7});
  const int64_t charged = before - Balance(x, account);
  CHECK(charged > 0);
  CHECK(charged % 2 == 0);  // two meals of one tariff, not three
  CHECK(x.f.logf.log->ReadStream(other, 1, Direction::kForward, 100)->size() == 1);  // opened

  const uint64_t head = x.f.logf.log->LastPosition();
  auto again = x.MustImport(file);
  CHECK(again.applied == 0);
  CHECK(again.problems.size() == 2);
  CHECK(x.f.logf.log->LastPosition() == head);
}

TEST_CASE("a file that is not well-formed is refused whole, with its line and column",
          "[exchange]") {
  Exchange x;
  const uint64_t head = x.f.logf.log->LastPosition();
  auto r = x.Import(Doc(Enrolment("MUSE-1") + "  <usage id=\"M-1\" account=\"x\"\n"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message().find("not well-formed") != std::string::npos);
  INFO(r.status().message());
  CHECK(r.status().message().find("line 10") != std::string::npos);
  CHECK(x.f.logf.log->LastPosition() == head);  // not even the well-formed first record

  // Not the layout's document at all, or another tenant's: refused whole too.
  CHECK_FALSE(x.Import("<?xml version=\"1.0\"?><orders/>").ok());
  CHECK_FALSE(x.Import(Doc(Enrolment("MUSE-1"), "comune-forli")).ok());
  CHECK_FALSE(x.Import(Doc(Enrolment("MUSE-1")), A("op9", "operator", "comune-forli")).ok());
  CHECK(x.f.logf.log->LastPosition() == head);
}

TEST_CASE("another tenant's account reads as no account at all", "[exchange]") {
  Exchange x;
  x.MustImport(Doc(Enrolment("MUSE-1")));
  const std::string account = Admit(x, Exported(x).at(0).first);
  const Actor forli = A("op9", "operator", "comune-forli");
  auto theirs = x.Import(Doc(Usage("M-1", account), "comune-forli"), forli);
  auto nobody =
      x.Import(Doc(Usage("M-1", "account-comune-forli-77-canteen"), "comune-forli"), forli);
  REQUIRE(theirs.ok());
  REQUIRE(nobody.ok());
  REQUIRE(theirs->problems.size() == 1);
  REQUIRE(nobody->problems.size() == 1);
  auto shape = [](std::string reason, const std::string& id) {
    return reason.replace(reason.find(id), id.size(), "<id>");
  };
  CHECK(shape(theirs->problems[0].reason, account) ==
        shape(nobody->problems[0].reason, "account-comune-forli-77-canteen"));
}

// A copy of the repository's domain where comune-aosta's canteen has room for a town's children.
std::string RoomyDomain(TempDir& tmp) {
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  const std::string path = tmp.sub("domain") + "/services/comune-aosta.json";
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(path));
  for (auto& s : doc["services"]) {
    if (s["id"] == "canteen") s["ranking"]["places"]["primaria_saint_roch"] = 5000;
  }
  std::ofstream(path, std::ios::trunc) << doc.dump(2);
  return tmp.sub("domain");
}

TEST_CASE("100,000 meals made elsewhere, imported and imported again", "[exchange][.][large]") {
  TempDir tmp;
  Exchange x(RoomyDomain(tmp));
  std::vector<std::string> accounts;
  std::string enrolments;
  // A month's meals of a town's school canteens: 1,000 children, 100 records each (a tenth of
  // it under the sanitizers' build, PROCEDO_TEST_SCALE=0.1: the same paths, ten times slower).
  const char* scale_env = std::getenv("PROCEDO_TEST_SCALE");
  const double scale = scale_env != nullptr ? std::max(0.01, std::atof(scale_env)) : 1.0;
  const int children = static_cast<int>(1000 * scale);
  const int total = children * 100;
  for (int i = 0; i < children; ++i) enrolments += Enrolment(fmt::format("MUSE-{}", i));
  REQUIRE(x.MustImport(Doc(enrolments)).applied == static_cast<size_t>(children));
  for (const auto& [stream, number] : Exported(x)) accounts.push_back(Admit(x, stream));
  std::string records;
  records.reserve(static_cast<size_t>(total) * 110);
  for (int i = 0; i < total; ++i) {
    records += Usage(fmt::format("M-{}", i), accounts[i % accounts.size()],
                     fmt::format("2026-11-{:02d}", 1 + i % 28));
  }
  const std::string file = Doc(records);
  auto report = x.MustImport(file);
  CHECK(report.records == static_cast<size_t>(total));
  CHECK(report.applied == static_cast<size_t>(total));
  CHECK(report.problems.empty());
  const uint64_t head = x.f.logf.log->LastPosition();
  auto again = x.MustImport(file);
  CHECK(again.unchanged == static_cast<size_t>(total));
  CHECK(x.f.logf.log->LastPosition() == head);
}

TEST_CASE("an application's people are sealed, opened for the export, left out once erased",
          "[exchange][personal]") {
  Exchange x;
  x.f.SealPersonalData();
  CHECK(x.MustImport(Doc(Enrolment("MUSE-1"))).applied == 1);
  auto exported = Exported(x);
  REQUIRE(exported.size() == 1);
  const std::string stream = exported[0].first;
  const std::string account = Admit(x, stream);

  // The log holds the applicant and the child sealed, each a subject of their own.
  auto events = x.f.logf.log->ReadStream(stream, 1, Direction::kForward, 10);
  REQUIRE(events.ok());
  const json started = json::parse(events->front().data);
  for (const char* text : {"Marta Rossi", "RSSMRT80A41A326X", "marta@example.it", "Luca Rossi",
                           "RSSLCU15C10A326Y", "2015-03-10", "700000"}) {
    CHECK(events->front().data.find(text) == std::string::npos);
  }
  const std::string parent = started["applicant"]["subject"],
                    child = started["beneficiary"]["subject"];
  CHECK(parent != child);
  CHECK(x.f.personal->Open(started["beneficiary"]["tax_code"].get<std::string>()).value() ==
        "RSSLCU15C10A326Y");
  // The account's copy of the child's name is the sealed value itself.
  const json opened = x.f.State(account).fields;
  CHECK(opened["beneficiary_name"] == started["beneficiary"]["name"]);

  // The same file again changes nothing; the export gives the people as they came.
  const uint64_t head = x.f.logf.log->LastPosition();
  CHECK(x.MustImport(Doc(Enrolment("MUSE-1"))).unchanged == 1);
  CHECK(x.f.logf.log->LastPosition() == head);
  auto xml = exchange::ExportEnrolments(*x.f.logf.log, "comune-aosta", "", x.f.personal.get());
  REQUIRE(xml.ok());
  for (const char* text :
       {"<name>Marta Rossi</name>", "<tax_code>RSSMRT80A41A326X</tax_code>",
        "<email>marta@example.it</email>", "<birth_date>2015-03-10</birth_date>",
        "<tax_code>RSSLCU15C10A326Y</tax_code>", "<isee_cents>700000</isee_cents>"}) {
    CHECK(xml->find(text) != std::string::npos);
  }
  CHECK(xml->find("pd1.") == std::string::npos);

  // A second application for the same child finds the same subject.
  std::string second = Enrolment("MUSE-2");
  second.replace(second.find("Marta Rossi"), 11, "Paolo Rossi");
  second.replace(second.find("RSSMRT80A41A326X"), 16, "RSSPLA78B12A326Z");
  auto report = x.MustImport(Doc(second));
  INFO(exchange::ReportJson(report).dump());
  CHECK(report.applied == 1);
  bool found = false;
  auto all = x.f.logf.log->ReadAll(1, 100'000);
  REQUIRE(all.ok());
  for (const auto& e : *all) {
    if (e.type != "enrolment.started" || e.stream == stream) continue;
    const json d = json::parse(e.data);
    CHECK(d["beneficiary"]["subject"] == child);
    CHECK(d["applicant"]["subject"] != parent);
    found = true;
  }
  CHECK(found);

  // Once the child's data is erased, the account shows it erased and the export leaves out
  // both applications: their records could not say who.
  REQUIRE(x.f.keys->Erase(child, "identity").ok());
  CHECK(x.f.personal->Show(opened["beneficiary_name"].get<std::string>()) == "[dato cancellato]");
  auto after = exchange::ExportEnrolments(*x.f.logf.log, "comune-aosta", "", x.f.personal.get());
  REQUIRE(after.ok());
  CHECK(after->find("submitted_enrolment") == std::string::npos);
  CHECK(after->find("Luca Rossi") == std::string::npos);
}

}  // namespace procedo::testing
