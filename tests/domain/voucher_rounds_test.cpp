// Bon de Chauffage, the Region's side: sending an application back to the Comune for
// corrections, the Comune's corrections and new validation, and the rounds that stay in the stream.
#include <filesystem>
#include <fstream>

#include "sample_payloads.h"
#include "support/temp_dir.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

const Actor kRegion = A("reg1", "region", "regione-vda");

Rejection Refused(WorkflowFixture& f, const Actor& who, const std::string& stream,
                  const std::string& command, json payload) {
  auto r = f.Run(who, stream, command, std::move(payload));
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->accepted());
  return *r->rejection;
}

json Data(const CommandOutcome& o) {
  return json::parse(o.append.events.at(0)->data);
}

std::vector<std::string> Types(WorkflowFixture& f, const std::string& stream) {
  auto events = f.logf.log->ReadStream(stream, 1, Direction::kForward, 100);
  REQUIRE(events.ok());
  std::vector<std::string> out;
  for (const auto& e : *events) out.push_back(e.type);
  return out;
}

// Entered by op1, validated and forwarded by val1.
CommandOutcome Forwarded(WorkflowFixture& f, const std::string& stream) {
  f.Must(A("op1", "operator"), stream, "enter_application", SamplePayload("enter_application"));
  f.Must(A("val1", "validator"), stream, "validate_application", json::object());
  return f.Must(A("val1", "validator"), stream, "forward_to_region", json::object());
}

}  // namespace

TEST_CASE("Bon de Chauffage: sent back, corrected, validated again, forwarded again") {
  WorkflowFixture f;
  const bool sealed = GENERATE(false, true);
  if (sealed) f.SealPersonalData();
  const std::string s = "voucher-comune-aosta-1";
  json first = Data(Forwarded(f, s));
  if (sealed) {
    // The applicant is sealed where the application was entered, and nowhere in clear.
    const json entered =
        json::parse(f.logf.log->ReadStream(s, 1, Direction::kForward, 1)->at(0).data);
    CHECK(f.personal->Show(entered["applicant"]["name"].get<std::string>()) == "Pierre Rollandin");
    CHECK(entered.dump().find("RLLPRR70A01A326X") == std::string::npos);
  }
  // The forwarding carries the Region's term and office from the catalogue entry.
  CHECK(first["round"] == 1);
  CHECK(first["procedure_id"] == "heating_voucher");
  CHECK(first["term"] == "60cd");
  CHECK(first["term_text"] == "60 gg. dall'invio alla Regione");
  CHECK(first["calendar"] == "always");
  CHECK(first["catalogue_version"] == 1);
  CHECK(first["office"]["email"] == "energia@regione.example.it");

  // Another Region, or the Comune, may not send it back.
  CHECK(Refused(f, A("reg2", "region", "regione-piemonte"), s, "return_application",
                SamplePayload("return_application"))
            .kind == Rejection::Kind::kTenantNotAllowed);
  CHECK(Refused(f, A("val1", "validator"), s, "return_application",
                SamplePayload("return_application"))
            .kind == Rejection::Kind::kTenantNotAllowed);
  auto returned = f.Must(kRegion, s, "return_application", {{"reason", "Manca l'ISEE"}});
  CHECK(Data(returned) == json{{"return_reason", "Manca l'ISEE"},
                               {"returned_by", "reg1"},
                               {"returned_at", FormatTime(f.logf.clock.Now())},
                               {"round", 1}});
  WorkflowState st = f.State(s);
  CHECK(st.status == "returned");
  CHECK(st.fields["round"] == 1);
  CHECK(st.fields["return_reason"] == "Manca l'ISEE");
  CHECK(st.tenant == "comune-aosta");

  // Until it is forwarded again the Region may not act on it; the Comune may only correct it.
  for (const char* command : {"approve_application", "reject_application", "return_application"}) {
    INFO(command);
    CHECK(Refused(f, kRegion, s, command, SamplePayload(command)).kind ==
          Rejection::Kind::kNotAllowedInState);
  }
  CHECK(Refused(f, A("val1", "validator"), s, "validate_application", json::object()).kind ==
        Rejection::Kind::kNotAllowedInState);
  CHECK(Refused(f, A("val1", "validator"), s, "forward_to_region", json::object()).kind ==
        Rejection::Kind::kNotAllowedInState);
  CHECK(Refused(f, A("val1", "validator"), s, "correct_application",
                SamplePayload("correct_application"))
            .kind == Rejection::Kind::kRoleNotAllowed);
  CHECK(Refused(f, A("op2", "operator"), s, "correct_application", {{"isee", 100}}).kind ==
        Rejection::Kind::kPayloadInvalid);  // the corrections must be described

  json applicant = SamplePayload("enter_application")["applicant"];
  applicant["mobile"] = "+39 333 1234567";
  auto corrected =
      f.Must(A("op2", "operator"), s, "correct_application",
             {{"corrections", "Allegato l'ISEE 2026"}, {"isee", 9800}, {"applicant", applicant}});
  CHECK(Data(corrected)["corrected_by"] == "op2");
  if (sealed) {
    // The same person, found again by the fiscal code: the same subject.
    const json entered =
        json::parse(f.logf.log->ReadStream(s, 1, Direction::kForward, 1)->at(0).data);
    CHECK(Data(corrected)["applicant"]["subject"] == entered["applicant"]["subject"]);
    CHECK(f.personal->Show(Data(corrected)["applicant"]["mobile"].get<std::string>()) ==
          "+39 333 1234567");
  }
  st = f.State(s);
  CHECK(st.status == "entered");
  // The corrected ISEE is the applicant's, sealed with their key (the correction names them).
  CHECK(st.fields["isee"].is_string() == sealed);
  CHECK((sealed ? f.personal->ShowJson(st.fields["isee"].get<std::string>()) : st.fields["isee"]) ==
        9800);
  CHECK(st.fields["entered_by"] == "op1");
  // So is the household's size the application gave.
  CHECK(st.fields["household_members"].is_string() == sealed);
  CHECK((sealed ? f.personal->ShowJson(st.fields["household_members"].get<std::string>())
                : st.fields["household_members"]) == 3);

  // Segregation of duties holds for the corrections too: neither who entered it nor who
  // corrected it may validate it, even holding the validator role.
  Rejection by_corrector =
      Refused(f, A("op2", "validator"), s, "validate_application", json::object());
  CHECK(by_corrector.guard == "segregation_of_duties");
  CHECK_THAT(by_corrector.message, Catch::Contains("op2") && Catch::Contains("corrected"));
  CHECK(Refused(f, A("op1", "validator"), s, "validate_application", json::object()).guard ==
        "segregation_of_duties");
  f.Must(A("val2", "validator"), s, "validate_application", json::object());
  json second = Data(f.Must(A("val2", "validator"), s, "forward_to_region", json::object()));
  CHECK(second["round"] == 2);
  CHECK(second["term"] == "60cd");
  CHECK(second["forwarded_by"] == "val2");

  f.Must(kRegion, s, "approve_application", SamplePayload("approve_application"));
  st = f.State(s);
  CHECK(st.status == "approved");
  CHECK(st.fields["round"] == 2);
  // Every round's events stay in the stream.
  CHECK(Types(f, s) == std::vector<std::string>{"voucher.entered", "voucher.validated",
                                                "voucher.forwarded", "voucher.returned",
                                                "voucher.corrected", "voucher.validated",
                                                "voucher.forwarded", "voucher.approved"});
}

TEST_CASE("Bon de Chauffage: an operator_validator corrects and validates again alone") {
  WorkflowFixture f;
  const bool sealed = GENERATE(false, true);
  if (sealed) f.SealPersonalData();
  const std::string s = "voucher-comune-aosta-2";
  const Actor ov = A("ov1", "operator_validator");
  auto entered =
      f.Must(ov, s, "enter_and_validate_application", SamplePayload("enter_application"));
  f.Must(ov, s, "forward_to_region", json::object());
  f.Must(kRegion, s, "return_application", SamplePayload("return_application"));
  // Only the ISEE changes: the correction names the applicant as the state holds them, and the
  // new ISEE is sealed with their key.
  json corrected = Data(f.Must(ov, s, "correct_application", SamplePayload("correct_application")));
  const json applicant = json::parse(entered.append.events.at(0)->data)["applicant"];
  CHECK(corrected["applicant"] == applicant);
  CHECK(corrected["isee"].is_string() == sealed);
  if (sealed) {
    CHECK(crypto::ParsePersonal(corrected["isee"].get<std::string>())->subject ==
          applicant["subject"]);
    CHECK(f.personal->ShowJson(corrected["isee"].get<std::string>()) == 12500.0);
  }
  f.Must(ov, s, "validate_application", json::object());
  f.Must(ov, s, "forward_to_region", json::object());
  auto second = f.Must(kRegion, s, "return_application", {{"reason", "Indirizzo incompleto"}});
  CHECK(Data(second)["round"] == 2);
  CHECK(f.State(s).fields["return_reason"] == "Indirizzo incompleto");
  // A correction of the household's size alone names the applicant too.
  json size = Data(f.Must(ov, s, "correct_application",
                          {{"corrections", "Nucleo di 4 persone"}, {"household_members", 4}}));
  CHECK(size["applicant"] == applicant);
  CHECK(size["household_members"].is_string() == sealed);
  CHECK((sealed ? f.personal->ShowJson(size["household_members"].get<std::string>())
                : size["household_members"]) == 4);
}

TEST_CASE("Bon de Chauffage: a second forwarding keeps the catalogue entry the first froze") {
  TempDir tmp;
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  WorkflowFixture f(tmp.sub("domain"));
  const std::string s = "voucher-comune-aosta-3";
  Forwarded(f, s);
  f.Must(kRegion, s, "return_application", SamplePayload("return_application"));

  // The Region's term changes in the catalogue while the Comune corrects.
  const std::string entry = tmp.sub("domain") + "/catalogue/heating_voucher.json";
  json e = ReadJsonFile(entry).value();
  e["version"] = 2;
  e["term"] = {{"days", 90}, {"kind", "calendar"}, {"text", "90 gg. dall'invio alla Regione"}};
  std::ofstream(entry) << e.dump(2);
  f.domain = MustLoadDomain(tmp.sub("domain"));
  f.Restart();

  f.Must(A("op2", "operator"), s, "correct_application", SamplePayload("correct_application"));
  f.Must(A("val1", "validator"), s, "validate_application", json::object());
  json again = Data(f.Must(A("val1", "validator"), s, "forward_to_region", json::object()));
  CHECK(again["term"] == "60cd");
  CHECK(again["catalogue_version"] == 1);
  CHECK(again["round"] == 2);
  json fresh = Data(Forwarded(f, "voucher-comune-aosta-4"));
  CHECK(fresh["term"] == "90cd");
  CHECK(fresh["catalogue_version"] == 2);
  CHECK(fresh["round"] == 1);
}

TEST_CASE("Bon de Chauffage: an application forwarded before rounds were recorded was in round 1") {
  WorkflowFixture f;
  const WorkflowDefinition* def = f.domain->workflows.ById("heating_voucher");
  REQUIRE(def != nullptr);
  WorkflowState st;
  st.stream = "voucher-comune-aosta-5";
  st.version = 3;
  st.status = "forwarded";
  st.tenant = "comune-aosta";
  st.fields = {{"entered_by", "op1"},
               {"forwarded_to", "regione-vda"},
               {"forwarded_at", "2025-11-03T10:00:00Z"}};
  Command c{st.stream, "return_application", SamplePayload("return_application"), "", ""};
  Decision d = Decide(*def, st, c, kRegion, f.logf.clock.Now());
  REQUIRE(d.accepted());
  CHECK(d.events().at(0).data["round"] == 1);
}

TEST_CASE("Bon de Chauffage: a workflow that freezes an entry the catalogue lacks does not load") {
  TempDir tmp;
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove(tmp.sub("domain") + "/catalogue/heating_voucher.json");
  auto d = domain::LoadDomain(tmp.sub("domain"), SourceDir() + "/schemas");
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.status().message(), Catch::Contains("forward_to_region") &&
                                       Catch::Contains("heating_voucher") &&
                                       Catch::Contains("catalogue"));
}

}  // namespace procedo::testing
