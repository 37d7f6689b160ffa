// The Region's outcome on a Bon de Chauffage application, told by the notifier: to the applicant
// who gave a contact and consent, and a copy to the office of the Comune (tenants.json); the
// Region's term breached, to the Region's office the forwarding froze. Real commands of the
// heating_voucher workflow on a real log, a recording sender.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

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
const Actor kValidator{"val1", "validator", "comune-aosta"};
const Actor kRegion{"reg1", "region", "regione-vda"};
constexpr const char* kProcedure = "Bon de Chauffage (L.R. 7/12/2009, n. 34)";
constexpr const char* kComuneOffice = "protocollo@comune.aosta.example.it";

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

void Forward(NotifyFixture& f, const std::string& stream, const json& application) {
  Run(f, kOperator, stream, "enter_application", application);
  Run(f, kValidator, stream, "validate_application");
  Run(f, kValidator, stream, "forward_to_region");
}

NotifierOptions WithTenants(NotifyFixture& f) {
  NotifierOptions o = f.Options();
  o.tenants = f.domain->calendars;
  return o;
}

// What was sent, without ids: channel, recipient, subject.
std::set<std::tuple<std::string, std::string, std::string>> Sent(
    const std::vector<OutgoingMessage>& sent, size_t from = 0) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (size_t i = from; i < sent.size(); ++i) {
    out.emplace(sent[i].channel, sent[i].recipient, sent[i].subject);
  }
  return out;
}

const OutgoingMessage& To(const std::vector<OutgoingMessage>& sent, const std::string& recipient,
                          const std::string& type) {
  for (const auto& m : sent) {
    if (m.recipient == recipient && m.source_type == type) return m;
  }
  FAIL("no " << type << " message to " << recipient);
  return sent.front();
}

}  // namespace

TEST_CASE("the Region's outcome goes to the consenting applicant and to the Comune's office",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  json anna = SamplePayload("enter_application");
  anna["applicant"] = {{"name", "Anna Rosset"},
                       {"tax_code", "RSSNNA80A41A326X"},
                       {"email", "anna@example.it"},
                       {"mobile", "+39 333 7654321"}};
  anna["consent"] = {{"sms", false}, {"email", true}};
  Forward(f, "voucher-comune-aosta-1", anna);
  Forward(f, "voucher-comune-aosta-2", SamplePayload("enter_application"));  // no contact
  Run(f, kRegion, "voucher-comune-aosta-1", "return_application",
      {{"reason", "Manca l'attestazione ISEE"}});
  Run(f, kRegion, "voucher-comune-aosta-2", "approve_application",
      {{"amount", 1234.5}, {"note", "Liquidazione a dicembre"}});

  Notifier n(*f.commands, *f.state, f.templates, sender, WithTenants(f));
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  // Entering, validating and forwarding tell nobody; the outcomes tell exactly these.
  using M = std::set<std::tuple<std::string, std::string, std::string>>;
  CHECK(Sent(sender.sent) ==
        M{{"email", "anna@example.it",
           std::string(kProcedure) + ": domanda restituita all'ente per correzioni"},
          {"email", kComuneOffice, std::string(kProcedure) + ": domanda 1 restituita per correzioni"},
          {"email", kComuneOffice, std::string(kProcedure) + ": domanda 2 accolta dalla Regione"}});
  CHECK(To(sender.sent, "anna@example.it", "voucher.returned").body ==
        "Gentile Anna Rosset,\n\n"
        "la Regione ha restituito all'ente la sua domanda di contributo \"Bon de Chauffage (L.R. "
        "7/12/2009, n. 34)\" (riferimento 1, ente: Comune di Aosta) perché sia corretta; il "
        "termine per la decisione è sospeso fino al nuovo invio alla Regione.\n"
        "Motivo: Manca l'attestazione ISEE\n\n"
        "L'ente la contatterà se servono altri dati o documenti. Per informazioni: Comune di "
        "Aosta, protocollo@comune.aosta.example.it.\n");
  const OutgoingMessage& returned = To(sender.sent, kComuneOffice, "voucher.returned");
  CHECK_THAT(returned.body,
             Catch::StartsWith("Spett.le Ufficio Protocollo – Comune di Aosta,\n\n"
                               "la Regione ha restituito la domanda 1 di Anna Rosset (invio n. 1) "
                               "perché sia corretta.\nMotivo: Manca l'attestazione ISEE\n") &&
                 Catch::EndsWith("Flusso: voucher-comune-aosta-1\n"));
  const OutgoingMessage& approved = To(sender.sent, kComuneOffice, "voucher.approved");
  CHECK(approved.body ==
        "Spett.le Ufficio Protocollo – Comune di Aosta,\n\n"
        "la Regione ha accolto la domanda 2 di Pierre Rollandin (invio n. 1).\n"
        "Importo concesso: € 1.234,50.\n"
        "Note della Regione: Liquidazione a dicembre\n\n"
        "Flusso: voucher-comune-aosta-2\n");

  // The Comune corrects: the applicant now wants SMS only. The rejection of the second round
  // reaches them by SMS, and the Comune's office by e-mail.
  const size_t before = sender.sent.size();
  json corrections = {{"corrections", "Allegata l'attestazione ISEE 2026"},
                      {"consent", {{"sms", true}, {"email", false}}}};
  Run(f, kOperator, "voucher-comune-aosta-1", "correct_application", corrections);
  Run(f, Actor{"val2", "validator", "comune-aosta"}, "voucher-comune-aosta-1",
      "validate_application");
  Run(f, kValidator, "voucher-comune-aosta-1", "forward_to_region");
  Run(f, kRegion, "voucher-comune-aosta-1", "reject_application",
      {{"reason", "ISEE oltre la soglia"}});
  f.Settle(n);
  CHECK(Sent(sender.sent, before) ==
        M{{"sms", "+39 333 7654321", ""},
          {"email", kComuneOffice, std::string(kProcedure) + ": domanda 1 respinta dalla Regione"}});
  CHECK(To(sender.sent, "+39 333 7654321", "voucher.rejected").body ==
        "Domanda di contributo (rif. 1) respinta dalla Regione. Motivo: ISEE oltre la soglia. "
        "Comune di Aosta");
  CHECK_THAT(To(sender.sent, kComuneOffice, "voucher.rejected").body,
             Catch::Contains("la domanda 1 di Anna Rosset (invio n. 2).\n"
                             "Motivo: ISEE oltre la soglia\n"));

  // A second notifier over the same log owes nothing.
  Notifier again(*f.commands, *f.state, f.templates, sender, WithTenants(f));
  REQUIRE(again.CatchUp().ok());
  CHECK(*again.Flush() == 0);
}

TEST_CASE("a breach of the Region's term goes to the Region's office the forwarding froze",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  const std::string s = "voucher-comune-aosta-3";
  Forward(f, s, SamplePayload("enter_application"));
  Run(f, Actor::System("sla-timer", "comune-aosta"), s, "record_sla_breach",
      {{"clock", "region_term"},
       {"target", "60cd"},
       {"calendar", "always"},
       {"deadline", "2026-07-27T23:59:59.999999+02:00"},
       {"started_at", "2026-05-28T22:26:40+02:00"},
       {"start_position", 3},
       {"elapsed_seconds", 5190799}});
  Notifier n(*f.commands, *f.state, f.templates, sender, WithTenants(f));
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  REQUIRE(sender.sent.size() == 1);
  const OutgoingMessage& m = sender.sent[0];
  CHECK(m.recipient == "energia@regione.example.it");
  CHECK(m.source_type == "sla.breached");
  CHECK(m.subject == "Sforamento del tempo previsto: domanda 3 (Comune di Aosta)");
  CHECK(m.body ==
        "All'ufficio Dipartimento Industria, Artigianato ed Energia,\n\n"
        "il tempo previsto di 60 giorni di calendario (orologio \"region_term\") per la domanda 3 "
        "(Bon de Chauffage (L.R. 7/12/2009, n. 34), Comune di Aosta) è stato superato: la "
        "scadenza era 2026-07-27T23:59:59.999999+02:00.\n"
        "Responsabile: Responsabile del procedimento Bon de Chauffage\n\n"
        "Flusso: voucher-comune-aosta-3\n");
}

TEST_CASE("a Comune without an office in the tenants' data gets no copy; the applicant still does",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  namespace fs = std::filesystem;
  fs::copy(std::string(PROCEDO_SOURCE_DIR) + "/domain/calendars", f.dir.sub("calendars"));
  const std::string file = f.dir.sub("calendars") + "/tenants.json";
  json tenants = ReadJsonFile(file).value();
  tenants["comune-aosta"].erase("office");
  std::ofstream(file) << tenants.dump();
  auto calendars = domain::CalendarCatalog::LoadDir(f.dir.sub("calendars"));
  REQUIRE(calendars.ok());
  NotifierOptions o = f.Options();
  o.tenants = std::make_shared<const domain::CalendarCatalog>(std::move(calendars).value());

  json application = SamplePayload("enter_application");
  application["applicant"]["email"] = "pierre@example.it";
  application["consent"] = {{"sms", false}, {"email", true}};
  Forward(f, "voucher-comune-aosta-4", application);
  Run(f, kRegion, "voucher-comune-aosta-4", "approve_application", {{"amount", 350}});
  Notifier n(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  REQUIRE(sender.sent.size() == 1);
  CHECK(sender.sent[0].recipient == "pierre@example.it");
  CHECK(sender.sent[0].subject == std::string(kProcedure) + ": domanda accolta");
  CHECK(sender.sent[0].body ==
        "Gentile Pierre Rollandin,\n\n"
        "la Regione ha accolto la sua domanda di contributo \"Bon de Chauffage (L.R. 7/12/2009, "
        "n. 34)\" (riferimento 4, ente: Comune di Aosta).\n"
        "Importo concesso: € 350,00.\n\n"
        "Per informazioni si rivolga all'ente presso cui ha presentato la domanda: Comune di "
        "Aosta.\n");
}
