// The rules of the seeds that need guards and effects, each shown allowed and refused.
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

Rejection Refused(WorkflowFixture& f, const Actor& who, const std::string& stream,
                  const std::string& command, json payload) {
  auto r = f.Run(who, stream, command, std::move(payload));
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->accepted());
  return *r->rejection;
}

json Data(const CommandOutcome& o, size_t i = 0) {
  return json::parse(o.append.events.at(i)->data);
}

}  // namespace

TEST_CASE("Bon de Chauffage: segregation of duties, both ways") {
  WorkflowFixture f;
  const std::string s = "voucher-comune-aosta-1";
  f.Must(A("mrossi", "operator"), s, "enter_application", SamplePayload("enter_application"));

  SECTION("an operator cannot validate") {
    CHECK(Refused(f, A("mrossi", "operator"), s, "validate_application", json::object()).kind ==
          Rejection::Kind::kRoleNotAllowed);
  }
  SECTION("the person who entered it cannot validate it, even holding the validator role") {
    Rejection r = Refused(f, A("mrossi", "validator"), s, "validate_application", json::object());
    CHECK(r.kind == Rejection::Kind::kGuardRefused);
    CHECK(r.guard == "segregation_of_duties");
    CHECK_THAT(r.message, Catch::Contains("mrossi"));
  }
  SECTION("a different validator can") {
    auto o = f.Must(A("lbianchi", "validator"), s, "validate_application", json::object());
    CHECK(Data(o)["validated_by"] == "lbianchi");
    CHECK(f.State(s).status == "validated");
  }
}

TEST_CASE("Bon de Chauffage: operator_validator enters and validates in one step") {
  WorkflowFixture f;
  auto o = f.Must(A("ov1", "operator_validator"), "voucher-comune-aosta-2",
                  "enter_and_validate_application", SamplePayload("enter_application"));
  REQUIRE(o.append.events.size() == 2);
  CHECK(o.append.events[0]->type == "voucher.entered");
  CHECK(o.append.events[1]->type == "voucher.validated");
  CHECK(Data(o, 1) ==
        json{{"validated_by", "ov1"}, {"validated_at", FormatTime(f.logf.clock.Now())}});
  CHECK(f.State("voucher-comune-aosta-2").status == "validated");
  // A plain operator may not.
  CHECK(Refused(f, A("op1", "operator"), "voucher-comune-aosta-3", "enter_and_validate_application",
                SamplePayload("enter_application"))
            .kind == Rejection::Kind::kRoleNotAllowed);
}

TEST_CASE("Bon de Chauffage: the Region sees only what was forwarded to it") {
  WorkflowFixture f;
  const std::string s = "voucher-comune-aosta-4";
  const Actor region = A("reg1", "region", "regione-vda");
  f.Must(A("op1", "operator"), s, "enter_application", SamplePayload("enter_application"));
  f.Must(A("val1", "validator"), s, "validate_application", json::object());
  CHECK(Refused(f, region, s, "approve_application", SamplePayload("approve_application")).kind ==
        Rejection::Kind::kTenantNotAllowed);
  f.Must(A("val1", "validator"), s, "forward_to_region", json::object());
  CHECK(f.State(s).fields["forwarded_to"] == "regione-vda");
  // Another region, or the Comune itself, may not decide.
  CHECK(Refused(f, A("reg2", "region", "regione-piemonte"), s, "approve_application",
                SamplePayload("approve_application"))
            .kind == Rejection::Kind::kTenantNotAllowed);
  f.Must(region, s, "approve_application", SamplePayload("approve_application"));
  CHECK(f.State(s).status == "approved");
  // The stream stays the Comune's.
  CHECK(f.State(s).tenant == "comune-aosta");
}

TEST_CASE("Bon de Chauffage: the Region is the tenant's, from the tenants' data") {
  TempDir tmp;
  namespace fs = std::filesystem;
  fs::copy(SourceDir() + "/domain", tmp.sub("domain"), fs::copy_options::recursive);
  // A Comune of another Region, and one whose Region is not configured yet.
  json tenants = ReadJsonFile(tmp.sub("domain") + "/calendars/tenants.json").value();
  tenants["comune-nus"] = {{"name", "Comune di Nus"}};
  std::ofstream(tmp.sub("domain") + "/calendars/tenants.json") << tenants.dump();
  WorkflowFixture f(tmp.sub("domain"));

  auto forward = [&](const std::string& tenant, const std::string& stream) {
    f.Must(A("op1", "operator", tenant), stream, "enter_application",
           SamplePayload("enter_application"));
    f.Must(A("val1", "validator", tenant), stream, "validate_application", json::object());
    return f.Run(A("val1", "validator", tenant), stream, "forward_to_region", json::object());
  };
  auto forli = forward("comune-forli", "voucher-comune-forli-1");
  REQUIRE(forli.ok());
  REQUIRE(forli->accepted());
  CHECK(f.State("voucher-comune-forli-1").fields["forwarded_to"] == "regione-emilia-romagna");

  auto nus = forward("comune-nus", "voucher-comune-nus-1");
  REQUIRE(nus.ok());
  REQUIRE_FALSE(nus->accepted());
  CHECK(nus->rejection->guard == "tenant_has_region");
  CHECK_THAT(nus->rejection->message, Catch::Contains("comune-nus") && Catch::Contains("region"));
  CHECK(f.State("voucher-comune-nus-1").status == "validated");
}

TEST_CASE("tickets: one technician, named; reopening goes back to the one who closed it") {
  WorkflowFixture f;
  const std::string s = "ticket-comune-aosta-1";
  const Actor user = A("cit1", "citizen");
  f.Must(user, s, "open_ticket", SamplePayload("open_ticket"));
  auto taken =
      f.Must(A("hd1", "helpdesk_l1"), s, "take_in_charge", SamplePayload("take_in_charge"));
  CHECK(Data(taken)["technician_name"] == "Marco Rossi");
  // Exactly one technician: a second taking in charge is refused.
  CHECK(Refused(f, A("hd2", "helpdesk_l1"), s, "take_in_charge",
                {{"technician", "tec-x"}, {"technician_name", "X"}})
            .kind == Rejection::Kind::kNotAllowedInState);
  auto esc =
      f.Must(A("hd1", "helpdesk_l1"), s, "escalate_ticket", SamplePayload("escalate_ticket"));
  CHECK(Data(esc)["level"] == 2);
  CHECK(f.State(s).fields["level"] == 2);
  f.Must(user, s, "record_reminder", SamplePayload("record_reminder"));
  f.Must(user, s, "record_complaint", SamplePayload("record_complaint"));
  // Another citizen of the same Comune cannot touch this ticket.
  CHECK(Refused(f, A("cit2", "citizen"), s, "record_reminder", SamplePayload("record_reminder"))
            .guard == "requester_if_citizen");
  f.Must(A("tec-verdi", "helpdesk_l2"), s, "resolve_ticket", SamplePayload("resolve_ticket"));
  f.Must(A("tec-verdi", "helpdesk_l2"), s, "close_ticket", json::object());
  CHECK(Refused(f, A("cit2", "citizen"), s, "reopen_ticket", SamplePayload("reopen_ticket")).kind ==
        Rejection::Kind::kGuardRefused);
  auto reopened = f.Must(user, s, "reopen_ticket", SamplePayload("reopen_ticket"));
  CHECK(Data(reopened)["technician"] == "tec-verdi");
  CHECK(f.State(s).fields["technician"] == "tec-verdi");
  CHECK(f.State(s).status == "in_progress");
}

TEST_CASE("enrolment: online and paper applications share one gap-free sequence per service") {
  WorkflowFixture f;
  auto enrol = [&](const std::string& stream, const Actor& who, json services) {
    json start = SamplePayloadFor("start_enrolment", who.role);
    start["services"] = services;
    if (who.tenant == "comune-forli") start["site"] = "primaria_saffi";
    f.Must(who, stream, "start_enrolment", start);
    json details = json::object();
    for (const auto& s : services) details[s.get<std::string>()] = SampleAnswers(s);
    f.Must(who, stream, "complete_details", {{"details", details}});
    return Data(f.Must(who, stream, "submit_enrolment"));
  };
  json a = enrol("enrolment-comune-aosta-1", A("cit1", "citizen"), {"canteen", "transport"});
  json b = enrol("enrolment-comune-aosta-2", A("op1", "operator"), {"canteen"});
  f.logf.clock.Advance(std::chrono::minutes(3));
  json c = enrol("enrolment-comune-aosta-3", A("cit3", "citizen"), {"transport", "canteen"});
  CHECK(a["sequence_numbers"] == json{{"canteen", 1}, {"transport", 1}});
  CHECK(b["sequence_numbers"] == json{{"canteen", 2}});
  CHECK(c["sequence_numbers"] == json{{"canteen", 3}, {"transport", 2}});
  CHECK(c["submitted_at"] == FormatTime(f.logf.clock.Now()));
  // Another tenant has its own sequence.
  json d = enrol("enrolment-comune-forli-1", A("cit9", "citizen", "comune-forli"), {"canteen"});
  CHECK(d["sequence_numbers"] == json{{"canteen", 1}});
  // The counter stream is the record of who holds which number.
  auto counter =
      f.logf.log->ReadStream("sequence-comune-aosta-canteen", 1, Direction::kForward, 10);
  REQUIRE(counter.ok());
  REQUIRE(counter->size() == 3);
  CHECK(json::parse(counter->at(1).data)["claimed_by"] == "enrolment-comune-aosta-2");
  // A citizen may not submit a paper application, nor skip step 2's services.
  CHECK(Refused(f, A("cit4", "citizen"), "enrolment-comune-aosta-9", "start_enrolment",
                SamplePayloadFor("start_enrolment", "operator"))
            .guard == "channel_matches_role");
  f.Must(A("cit4", "citizen"), "enrolment-comune-aosta-9", "start_enrolment",
         SamplePayload("start_enrolment"));
  CHECK(Refused(f, A("cit4", "citizen"), "enrolment-comune-aosta-9", "complete_details",
                {{"details", {{"canteen", SampleAnswers("canteen")}}}})
            .guard == "details_answer_questions");
}

TEST_CASE("administrative case: the case keeps the catalogue entry it started under") {
  TempDir tmp;
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  const std::string entry = tmp.sub("domain") + "/catalogue/access_to_records.json";
  std::string first_case = "case-comune-aosta-1";
  {
    WorkflowFixture f(tmp.sub("domain"));
    auto o = f.Must(A("op1", "operator"), first_case, "start_case", SamplePayload("start_case"));
    CHECK(Data(o)["term"] == "30cd");
    CHECK(Data(o)["catalogue_version"] == 1);
    CHECK(Data(o)["office"]["name"] == "Ufficio Relazioni con il Pubblico");

    // The office edits its catalogue: a shorter term, a new responsible, version 2.
    json e = ReadJsonFile(entry).value();
    e["version"] = 2;
    e["term"] = {{"days", 15}, {"kind", "business"}, {"text", "15 gg. lavorativi"}};
    e["responsible"]["name"] = "Dott.ssa Nuova";
    std::ofstream(entry) << e.dump(2);

    f.domain = MustLoadDomain(tmp.sub("domain"));
    f.Restart();
    WorkflowState old_case = f.State(first_case);
    CHECK(old_case.fields["term"] == "30cd");
    CHECK(old_case.fields["catalogue_version"] == 1);
    CHECK(old_case.fields["responsible"]["name"] == "Dott. Luca Bianchi");
    f.Must(A("op1", "operator"), first_case, "suspend_case", SamplePayload("suspend_case"));
    CHECK(f.State(first_case).fields["term"] == "30cd");

    auto n = f.Must(A("op1", "operator"), "case-comune-aosta-2", "start_case",
                    SamplePayload("start_case"));
    CHECK(Data(n)["term"] == "15bd");
    CHECK(Data(n)["catalogue_version"] == 2);
    CHECK(Data(n)["responsible"]["name"] == "Dott.ssa Nuova");
  }
}

TEST_CASE("administrative case: a procedure outside the catalogue is refused") {
  WorkflowFixture f;
  json p = SamplePayload("start_case");
  p["procedure_id"] = "fishing_licence";
  Rejection r = Refused(f, A("op1", "operator"), "case-comune-aosta-1", "start_case", p);
  CHECK(r.guard == "known_procedure");
  CHECK_THAT(r.message, Catch::Contains("fishing_licence"));
}

}  // namespace procedo::testing
