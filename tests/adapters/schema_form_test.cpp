// Forms generated from a command's payload schema (adapters/web/schema_form.h): the fields and
// their order, the payload a filled-in form makes, and a refusal's violations as Italian
// sentences next to their fields.
#include "adapters/web/schema_form.h"

#include <catch2/catch.hpp>

#include "engine/workflow/json_schema.h"

using namespace procedo;
using namespace procedo::web;
using nlohmann::json;

namespace {
const json kSchema = json::parse(R"({
  "title": "Inserisci la domanda",
  "type": "object",
  "required": ["applicant", "members", "fuel"],
  "additionalProperties": false,
  "properties": {
    "note": {"title": "Nota", "type": "string", "maxLength": 2000},
    "fuel": {"title": "Combustibile", "enum": ["gas", "wood"], "enumNames": ["gas metano", "legna"]},
    "members": {"title": "Componenti", "type": "integer", "minimum": 1, "maximum": 30},
    "isee": {"title": "ISEE", "type": "number", "minimum": 0},
    "documents": {"type": "array", "items": {"type": "string"}},
    "applicant": {"title": "Richiedente", "type": "object", "required": ["tax_code"],
      "additionalProperties": false, "properties": {
        "tax_code": {"title": "Codice fiscale", "description": "16 lettere maiuscole e cifre",
                     "type": "string", "pattern": "^[A-Z0-9]{16}$"},
        "sms": {"title": "Messaggi per SMS", "type": "boolean"}}}
  }
})");
}  // namespace

TEST_CASE("a payload schema becomes a form, and the form a payload", "[schema_form]") {
  json form = FormOf(kSchema, "enter", {}, {});
  CHECK(form["complete"] == true);  // the list is optional: the form can still be sent
  REQUIRE(form["groups"].size() == 2);
  const json& loose = form["groups"][0]["fields"];
  // Required fields first, in the order `required` lists them.
  CHECK(loose[0]["name"] == "f.members");
  CHECK(loose[0]["number"] == true);
  CHECK(loose[1]["name"] == "f.fuel");
  CHECK(loose[1]["options"][1] ==
        json({{"value", "wood"}, {"label", "legna"}, {"selected", false}}));
  CHECK(loose[2]["name"] == "f.documents");  // a list: one per line
  CHECK(loose[2]["textarea"] == true);
  CHECK(loose[3]["name"] == "f.isee");
  CHECK(loose[4]["name"] == "f.note");
  CHECK(loose[4]["textarea"] == true);
  CHECK(form["groups"][1]["legend"] == "Richiedente");
  CHECK(form["groups"][1]["fields"][0]["id"] == "enter-applicant-tax-code");
  CHECK(form["groups"][1]["fields"][0]["required"] == true);
  CHECK(form["groups"][1]["fields"][1]["checkbox"] == true);

  json payload = PayloadOf(kSchema, {{"f.members", " 3 "},
                                     {"f.fuel", "wood"},
                                     {"f.isee", "12500,5"},
                                     {"f.note", ""},
                                     {"f.applicant.tax_code", "RSSMRA80A01A326K"},
                                     {"f.applicant.sms", "true"}});
  CHECK(payload == json::parse(R"({"members": 3, "fuel": "wood", "isee": 12500.5,
      "applicant": {"tax_code": "RSSMRA80A01A326K", "sms": true}})"));
  auto schema = JsonSchema::Compile(kSchema, "test");
  REQUIRE(schema.ok());
  CHECK((*schema)->Validate(payload).empty());

  SECTION("what the system gives (readOnly) is neither shown nor taken from a post") {
    json s = kSchema;
    s["properties"]["email"] = {{"type", "object"},
                                {"readOnly", true},
                                {"properties", {{"message_id", {{"type", "string"}}}}}};
    json f = FormOf(s, "x", {}, {});
    CHECK(f["groups"].size() == 2);
    CHECK(f["groups"][1]["legend"] == "Richiedente");
    CHECK_FALSE(PayloadOf(s, {{"f.email.message_id", "<forged@x>"}}).contains("email"));
  }

  SECTION("a list of lists required by the payload makes the form one for the API only") {
    json s = kSchema;
    s["properties"]["grid"] = {{"type", "array"},
                               {"items", {{"type", "array"}, {"items", {{"type", "integer"}}}}}};
    s["required"].push_back("grid");
    CHECK(FormOf(s, "x", {}, {})["complete"] == false);
  }
}

TEST_CASE("lists and free-form objects are typed one per line, choices as boxes", "[schema_form]") {
  const json schema = json::parse(R"({
    "type": "object", "required": ["documents"], "additionalProperties": false,
    "properties": {
      "documents": {"title": "Documenti", "type": "array", "minItems": 1,
                    "items": {"type": "string", "minLength": 1, "maxLength": 20}},
      "days": {"title": "Giorni", "type": "array", "items": {"type": "integer", "minimum": 1}},
      "services": {"title": "Servizi", "type": "array",
                   "items": {"enum": ["canteen", "transport"]},
                   "enumNames": ["Mensa", "Trasporto"]},
      "extra": {"title": "Altri dati", "type": "object",
                "additionalProperties": {"type": "string"}},
      "nested": {"type": "object", "additionalProperties": {"type": "object"}}
    }
  })");
  json form = FormOf(schema, "x", {{"f.services.1", "transport"}}, {});
  CHECK(form["complete"] == true);
  const json& fields = form["groups"][0]["fields"];
  REQUIRE(fields.size() == 4);  // the object of objects has no form
  CHECK(fields[0]["name"] == "f.documents");
  CHECK(fields[0]["textarea"] == true);
  CHECK(fields[0]["hint"] == "Una voce per riga.");
  CHECK(fields[1]["name"] == "f.days");
  CHECK(fields[2]["name"] == "f.extra");
  CHECK(fields[2]["hint"] == "Una voce per riga, nella forma «nome: valore».");
  CHECK(fields[3]["choices"] == true);
  CHECK(fields[3]["options"][1]["name"] == "f.services.1");
  CHECK(fields[3]["options"][1]["checked"] == true);
  CHECK(fields[3]["options"][0]["checked"] == false);

  json payload = PayloadOf(schema, {{"f.documents", " planimetria.pdf \r\n\n  relazione.pdf\n"},
                                    {"f.days", "1\n3"},
                                    {"f.services.0", "canteen"},
                                    {"f.extra", "piano: secondo\ninterno : 4"}});
  CHECK(payload == json::parse(R"({"documents": ["planimetria.pdf", "relazione.pdf"],
      "days": [1, 3], "services": ["canteen"], "extra": {"piano": "secondo", "interno": "4"}})"));
  auto compiled = JsonSchema::Compile(schema, "test");
  REQUIRE(compiled.ok());
  CHECK((*compiled)->Validate(payload).empty());

  // A bad item is said at its list.
  json bad =
      PayloadOf(schema, {{"f.documents", "un nome decisamente troppo lungo"}, {"f.days", "due"}});
  json violations = json::array();
  for (const auto& v : (*compiled)->Validate(bad)) {
    violations.push_back({{"path", v.path}, {"message", v.message}});
  }
  auto errors = ErrorsOf(schema, bad, violations);
  CHECK(errors["documents"] == "Controlla «Documenti»: scrivi una voce per riga, come richiesto.");
  CHECK(errors["days"] == "Scrivi in «Giorni» un numero per riga.");
}

TEST_CASE("violations come back as Italian sentences at their fields", "[schema_form]") {
  auto schema = JsonSchema::Compile(kSchema, "test");
  REQUIRE(schema.ok());
  json payload = PayloadOf(
      kSchema,
      {{"f.members", "tre"}, {"f.applicant.tax_code", "abc"}, {"f.note", std::string(2001, 'x')}});
  json violations = json::array();
  for (const auto& v : (*schema)->Validate(payload)) {
    violations.push_back({{"path", v.path}, {"message", v.message}});
  }
  auto errors = ErrorsOf(kSchema, payload, violations);
  CHECK(errors["fuel"] == "Compila «Combustibile»: è obbligatorio.");
  CHECK(errors["members"] == "Scrivi in «Componenti» un numero intero da 1 a 30.");
  CHECK(errors["applicant.tax_code"] ==
        "«Codice fiscale» non ha il formato atteso: 16 lettere maiuscole e cifre.");
  CHECK(errors["note"] ==
        "«Nota» può avere al massimo 2000 caratteri (ne hai scritti 2001): accorcia il testo.");
  CHECK_FALSE(errors.count(""));
  // Each shows at its field, with what was typed kept.
  json form = FormOf(kSchema, "enter", {{"f.members", "tre"}}, errors);
  CHECK(form["groups"][0]["fields"][0]["value"] == "tre");
  CHECK(form["groups"][0]["fields"][0]["error"] == errors["members"]);
  CHECK(form["groups"][0]["fields"][2]["error"] == false);
}
