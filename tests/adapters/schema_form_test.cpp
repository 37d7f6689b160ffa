// Forms generated from a command's payload schema (adapters/web/schema_form.h): the fields and
// their order, the payload a filled-in form makes, and a refusal's violations as Italian
// sentences next to their fields.
#include <catch2/catch.hpp>

#include "adapters/web/schema_form.h"
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
  CHECK(loose[1]["options"][1] == json({{"value", "wood"}, {"label", "legna"}, {"selected", false}}));
  CHECK(loose[2]["name"] == "f.isee");
  CHECK(loose[3]["name"] == "f.note");
  CHECK(loose[3]["textarea"] == true);
  CHECK(form["groups"][1]["legend"] == "Richiedente");
  CHECK(form["groups"][1]["fields"][0]["id"] == "enter-applicant-tax-code");
  CHECK(form["groups"][1]["fields"][0]["required"] == true);
  CHECK(form["groups"][1]["fields"][1]["checkbox"] == true);

  json payload = PayloadOf(kSchema, {{"f.members", " 3 "}, {"f.fuel", "wood"}, {"f.isee", "12500,5"},
                                     {"f.note", ""}, {"f.applicant.tax_code", "RSSMRA80A01A326K"},
                                     {"f.applicant.sms", "true"}});
  CHECK(payload == json::parse(R"({"members": 3, "fuel": "wood", "isee": 12500.5,
      "applicant": {"tax_code": "RSSMRA80A01A326K", "sms": true}})"));
  auto schema = JsonSchema::Compile(kSchema, "test");
  REQUIRE(schema.ok());
  CHECK((*schema)->Validate(payload).empty());

  SECTION("a list required by the payload makes the form one for the API only") {
    json s = kSchema;
    s["required"].push_back("documents");
    CHECK(FormOf(s, "x", {}, {})["complete"] == false);
  }
}

TEST_CASE("violations come back as Italian sentences at their fields", "[schema_form]") {
  auto schema = JsonSchema::Compile(kSchema, "test");
  REQUIRE(schema.ok());
  json payload = PayloadOf(kSchema, {{"f.members", "tre"}, {"f.applicant.tax_code", "abc"},
                                     {"f.note", std::string(2001, 'x')}});
  json violations = json::array();
  for (const auto& v : (*schema)->Validate(payload)) {
    violations.push_back({{"path", v.path}, {"message", v.message}});
  }
  auto errors = ErrorsOf(kSchema, payload, violations);
  CHECK(errors["fuel"] == "Compila «Combustibile»: è obbligatorio.");
  CHECK(errors["members"] ==
        "Scrivi in «Componenti» un numero intero da 1 a 30.");
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
