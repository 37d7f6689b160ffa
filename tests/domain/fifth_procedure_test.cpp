// Adding a procedure is data only: a workflow file, a catalogue entry and event schemas dropped
// into copies of domain/ and schemas/, then commands run through it with no new C++.
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {

TEST_CASE("a fifth procedure is added by dropping files, with no code") {
  TempDir tmp;
  namespace fs = std::filesystem;
  fs::copy(SourceDir() + "/domain", tmp.sub("domain"), fs::copy_options::recursive);
  fs::copy(SourceDir() + "/schemas", tmp.sub("schemas"), fs::copy_options::recursive);

  // The weekly market's office keeps its own hours: a calendar file, named by the clock and the
  // catalogue entry below.
  std::ofstream(tmp.sub("domain") + "/calendars/market_office.json") << R"({
    "id": "market_office", "description": "Ufficio Commercio: Tue and Sat mornings",
    "time_zone": "Europe/Rome",
    "week": {"tue": [{"open": "08:00", "close": "12:00"}], "sat": [{"open": "07:00", "close": "13:00"}]},
    "national_holidays": true, "patron_saint": true
  })";
  std::ofstream(tmp.sub("domain") + "/workflows/market_stall.json") << R"({
    "id": "market_stall", "version": 1, "stream_kind": "stall",
    "states": ["requested", "granted", "refused"],
    "commands": {
      "request_stall": {"initial": true, "to": "requested", "roles": ["citizen", "operator"],
        "payload": {"type": "object", "required": ["market", "metres"], "additionalProperties": false,
                    "properties": {"market": {"type": "string", "minLength": 1},
                                   "metres": {"type": "integer", "minimum": 1, "maximum": 12}}},
        "events": [{"type": "stall.requested", "set": {"opened_by": "$actor.id"}}]},
      "remind": {"from": ["requested"], "roles": ["citizen"], "guards": ["requester_if_citizen"],
        "payload": {"type": "object", "additionalProperties": false, "properties": {}},
        "events": [{"type": "stall.reminded", "set": {"at": "$now"}}]},
      "grant_stall": {"from": ["requested"], "to": "granted", "roles": ["operator_validator"],
        "payload": {"type": "object", "required": ["pitch"], "properties": {"pitch": {"type": "string"}}},
        "events": [{"type": "stall.granted", "set": {"granted_by": "$actor.id"}}]},
      "refuse_stall": {"from": ["requested"], "to": "refused", "roles": ["operator_validator"],
        "payload": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
        "events": [{"type": "stall.refused"}]},
      "record_sla_warning": {"in_any_state": true, "roles": ["system"], "payload": {"type": "object"},
        "events": [{"type": "sla.warning", "merge": false}]},
      "record_sla_breach": {"in_any_state": true, "roles": ["system"], "payload": {"type": "object"},
        "events": [{"type": "sla.breached", "merge": false}]}
    },
    "sla_clocks": [{"id": "answer", "start": ["stall.requested"], "stop": ["stall.granted", "stall.refused"],
                    "target": "10bd", "calendar": "market_office"}]
  })";
  std::ofstream(tmp.sub("domain") + "/catalogue/market_stall.json") << R"({
    "id": "market_stall", "version": 1, "name": "Concessione di posteggio al mercato settimanale",
    "office": {"name": "Ufficio Commercio", "email": "commercio@comune.example.it"},
    "responsible": {"name": "Dott. Marco Gialli"},
    "term": {"days": 10, "kind": "business", "text": "10 gg. lavorativi"},
    "calendar": "market_office", "workflow": "market_stall"
  })";
  auto schema = [&](const std::string& type, const char* body) {
    std::ofstream(tmp.sub("schemas") + "/events/" + type + ".json") << body;
  };
  schema("stall.requested", R"({"type": "object", "required": ["market", "metres", "opened_by"],
    "additionalProperties": false, "properties": {"market": {"type": "string"},
    "metres": {"type": "integer"}, "opened_by": {"type": "string"}}})");
  schema("stall.reminded", R"({"type": "object", "required": ["at"], "additionalProperties": false,
    "properties": {"at": {"type": "string"}}})");
  schema("stall.granted", R"({"type": "object", "required": ["pitch", "granted_by"],
    "additionalProperties": false, "properties": {"pitch": {"type": "string"}, "granted_by": {"type": "string"}}})");
  schema(
      "stall.refused",
      R"({"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})");

  WorkflowFixture f(tmp.sub("domain"), 64, tmp.sub("schemas"));
  REQUIRE(f.domain->workflows.ById("market_stall") != nullptr);
  REQUIRE(f.domain->catalogue->Find("market_stall") != nullptr);
  CHECK(f.domain->workflows.ById("market_stall")->sla_clocks.at(0).target->amount == 10);

  const std::string s = "stall-comune-aosta-1";
  f.Must(A("cit1", "citizen"), s, "request_stall", {{"market", "Piazza Chanoux"}, {"metres", 4}});
  f.Must(A("cit1", "citizen"), s, "remind");
  auto other = f.Run(A("cit2", "citizen"), s, "remind");
  REQUIRE(other.ok());
  CHECK(other->rejection->guard == "requester_if_citizen");
  auto op = f.Run(A("op1", "operator"), s, "grant_stall", {{"pitch", "B12"}});
  REQUIRE(op.ok());
  CHECK(op->rejection->kind == Rejection::Kind::kRoleNotAllowed);
  f.Must(A("ov1", "operator_validator"), s, "grant_stall", {{"pitch", "B12"}});
  CHECK(f.State(s).status == "granted");
  CHECK(f.State(s).fields["granted_by"] == "ov1");

  // The other four families are untouched by the addition.
  f.Must(A("cit1", "citizen"), "ticket-comune-aosta-1", "open_ticket",
         SamplePayload("open_ticket"));

  SECTION("a catalogue entry naming a calendar no file defines is refused, with the choices") {
    json entry = ReadJsonFile(tmp.sub("domain") + "/catalogue/market_stall.json").value();
    entry["calendar"] = "market_hours";
    std::ofstream(tmp.sub("domain") + "/catalogue/market_stall.json") << entry.dump();
    auto d = domain::LoadDomain(tmp.sub("domain"), tmp.sub("schemas"));
    REQUIRE_FALSE(d.ok());
    CHECK_THAT(d.status().message(), Catch::Contains("unknown calendar 'market_hours'") &&
                                         Catch::Contains("market_office") &&
                                         Catch::Contains("helpdesk"));
  }
  SECTION("an invalid new file keeps the whole domain from loading, naming it") {
    std::ofstream(tmp.sub("domain") + "/workflows/market_stall.json", std::ios::app);
    json bad = ReadJsonFile(tmp.sub("domain") + "/workflows/market_stall.json").value();
    bad["commands"]["grant_stall"]["events"][0]["type"] = "stall.allotted";
    std::ofstream(tmp.sub("domain") + "/workflows/market_stall.json") << bad.dump();
    auto d = domain::LoadDomain(tmp.sub("domain"), tmp.sub("schemas"));
    REQUIRE_FALSE(d.ok());
    CHECK_THAT(d.status().message(),
               Catch::Contains("market_stall.json at /commands/grant_stall/events/0/type") &&
                   Catch::Contains("stall.allotted.json"));
  }
}

}  // namespace procedo::testing
