// Lists of objects and objects of named objects in generated forms (adapters/web/schema_form.h):
// a fieldset per row, rows added and removed by posting the form, the payload the rows make, and
// the schema's refusals at the row's field.
#include <catch2/catch.hpp>

#include "adapters/web/schema_form.h"
#include "adapters/web/site.h"
#include "engine/workflow/json_schema.h"

using namespace procedo;
using namespace procedo::web;
using nlohmann::json;

namespace {
// A procedure nobody wrote a page for: a claim with its expenses, each with a date and an amount,
// and the people to contact by name.
const json kClaim = json::parse(R"({
  "title": "Chiedi il rimborso",
  "type": "object",
  "required": ["subject", "expenses"],
  "additionalProperties": false,
  "properties": {
    "subject": {"title": "Oggetto", "type": "string", "minLength": 1, "maxLength": 200},
    "expenses": {
      "title": "Spese", "type": "array", "minItems": 1, "maxItems": 3,
      "items": {"type": "object", "required": ["description", "amount_cents"],
        "additionalProperties": false, "properties": {
          "description": {"title": "Descrizione", "type": "string", "minLength": 1,
                          "maxLength": 10},
          "amount_cents": {"title": "Importo in centesimi", "type": "integer", "minimum": 1},
          "day": {"title": "Data", "type": "string", "format": "date"},
          "receipts": {"title": "Ricevute", "type": "array", "items": {"type": "object",
            "required": ["number"], "properties": {
              "number": {"title": "Numero", "type": "string", "minLength": 1}}}}}}},
    "contacts": {
      "title": "Referenti", "type": "object",
      "additionalProperties": {"type": "object", "required": ["phone"], "properties": {
        "phone": {"title": "Telefono", "type": "string", "pattern": "^[0-9]{6,12}$"}}}}
  }
})");

json Violations(const json& schema, const json& payload) {
  auto compiled = JsonSchema::Compile(schema, "test");
  REQUIRE(compiled.ok());
  json out = json::array();
  for (const auto& v : (*compiled)->Validate(payload)) {
    out.push_back({{"path", v.path}, {"message", v.message}});
  }
  return out;
}

const json& FieldNamed(const json& fields, const std::string& name) {
  for (const json& f : fields) {
    if (f["name"] == name) return f;
  }
  FAIL("no field " << name);
  static const json none;
  return none;
}
}  // namespace

TEST_CASE("a list of objects is a fieldset per row, and the rows make the list", "[schema_form]") {
  json form = FormOf(kClaim, "rimborso", {}, {});
  CHECK(form["complete"] == true);
  CHECK(form["has_rows"] == true);
  const json& fields = form["groups"][0]["fields"];
  const json& expenses = fields[1];
  CHECK(expenses["rows"] == true);
  CHECK(expenses["count_name"] == "n.expenses");
  REQUIRE(expenses["items"].size() == 1);  // minItems 1: one row to start from
  const json& row = expenses["items"][0];
  CHECK(row["legend"] == "Spese 1");
  CHECK(row["remove"] == "expenses.0");
  CHECK(row["fields"][0]["name"] == "f.expenses.0.description");
  CHECK(row["fields"][0]["required"] == true);
  CHECK(row["fields"][1]["number"] == true);
  CHECK(row["fields"][3]["rows"] == true);  // a list of objects in a row: rows again
  CHECK(row["fields"][3]["items"][0]["fields"][0]["name"] == "f.expenses.0.receipts.0.number");
  const json& contacts = fields[2];
  CHECK(contacts["rows"] == true);
  CHECK(contacts["items"][0]["fields"][0]["name"] == "k.contacts.0");  // the entry's name first
  CHECK(contacts["items"][0]["fields"][1]["name"] == "f.contacts.0.phone");

  const FormValues typed = {{"f.subject", "Trasferta"},
                            {"n.expenses", "3"},
                            {"f.expenses.0.description", "Treno"},
                            {"f.expenses.0.amount_cents", "2350"},
                            {"f.expenses.0.receipts.0.number", "R-1"},
                            // Row 1 left empty: not an item.
                            {"f.expenses.1.description", "  "},
                            {"f.expenses.2.description", "Taxi"},
                            {"f.expenses.2.amount_cents", "1800"},
                            {"f.expenses.2.day", "2026-11-30"},
                            {"n.contacts", "2"},
                            {"k.contacts.0", "Ufficio"},
                            {"f.contacts.0.phone", "0165123456"}};
  json payload = PayloadOf(kClaim, typed);
  CHECK(payload == json::parse(R"({"subject": "Trasferta",
      "expenses": [{"description": "Treno", "amount_cents": 2350, "receipts": [{"number": "R-1"}]},
                   {"description": "Taxi", "amount_cents": 1800, "day": "2026-11-30"}],
      "contacts": {"Ufficio": {"phone": "0165123456"}}})"));
  CHECK(Violations(kClaim, payload).empty());

  // What was typed comes back in its row; more rows than maxItems are not shown.
  json again = FormOf(kClaim, "rimborso", typed, {});
  CHECK(again["groups"][0]["fields"][1]["items"].size() == 3);
  CHECK(again["groups"][0]["fields"][1]["can_add"] == false);
  CHECK(again["groups"][0]["fields"][1]["items"][2]["fields"][2]["value"] == "2026-11-30");
  CHECK(again["groups"][0]["fields"][2]["items"][0]["fields"][0]["value"] == "Ufficio");
  CHECK(
      FormOf(kClaim, "r", {{"n.expenses", "999"}}, {})["groups"][0]["fields"][1]["items"].size() ==
      3);
  CHECK(FormOf(kClaim, "r", {{"n.expenses", "0"}}, {})["groups"][0]["fields"][1]["items"].size() ==
        1);  // never fewer than minItems

  SECTION("no row typed: a required list is sent empty, for the schema to refuse") {
    json empty = PayloadOf(kClaim, {{"f.subject", "Trasferta"}});
    CHECK(empty["expenses"] == json::array());
    CHECK_FALSE(empty.contains("contacts"));
    auto errors = ErrorsOf(kClaim, empty, Violations(kClaim, empty));
    CHECK(errors["expenses"] == "Compila almeno 1 voci di «Spese».");
  }
}

TEST_CASE("rows are added and removed by posting the form, without sending it", "[schema_form]") {
  FormValues values = {{"f.subject", "x"}};
  CHECK_FALSE(EditRows(kClaim, &values));  // a plain post: the command is sent
  values = {{"f.subject", "Trasferta"}, {"aggiungi", "expenses"}};
  REQUIRE(EditRows(kClaim, &values));
  CHECK(values == FormValues{{"f.subject", "Trasferta"}, {"n.expenses", "2"}});
  CHECK(FormOf(kClaim, "r", values, {})["groups"][0]["fields"][1]["items"].size() == 2);

  values = {{"n.expenses", "3"},
            {"f.expenses.0.description", "Treno"},
            {"f.expenses.1.description", "Bus"},
            {"n.expenses.1.receipts", "2"},
            {"f.expenses.1.receipts.1.number", "R-9"},
            {"f.expenses.2.description", "Taxi"},
            {"f.expenses.2.receipts.0.number", "R-3"},
            {"rimuovi", "expenses.1"}};
  REQUIRE(EditRows(kClaim, &values));
  CHECK(values == FormValues{{"n.expenses", "2"},
                             {"f.expenses.0.description", "Treno"},
                             {"f.expenses.1.description", "Taxi"},
                             {"f.expenses.1.receipts.0.number", "R-3"}});

  // A nested row, and an entry's name, move with their rows.
  values = {{"n.expenses.0.receipts", "2"},
            {"f.expenses.0.receipts.0.number", "A"},
            {"f.expenses.0.receipts.1.number", "B"},
            {"rimuovi", "expenses.0.receipts.0"}};
  REQUIRE(EditRows(kClaim, &values));
  CHECK(values ==
        FormValues{{"n.expenses.0.receipts", "1"}, {"f.expenses.0.receipts.0.number", "B"}});
  values = {{"n.contacts", "2"},
            {"k.contacts.1", "Segreteria"},
            {"f.contacts.1.phone", "123456"},
            {"rimuovi", "contacts.0"}};
  REQUIRE(EditRows(kClaim, &values));
  CHECK(values == FormValues{{"n.contacts", "1"},
                             {"k.contacts.0", "Segreteria"},
                             {"f.contacts.0.phone", "123456"}});

  // Buttons naming no list of the schema, or a row that is not there, change nothing.
  for (const char* forged : {"subject", "expenses.0.description", "nothing", ""}) {
    values = {{"f.subject", "x"}, {"aggiungi", forged}};
    REQUIRE(EditRows(kClaim, &values));
    CHECK(values == FormValues{{"f.subject", "x"}});
  }
  for (const char* forged : {"expenses.7", "expenses.x", "expenses", "subject.0"}) {
    values = {{"f.subject", "x"}, {"rimuovi", forged}};
    REQUIRE(EditRows(kClaim, &values));
    CHECK(values == FormValues{{"f.subject", "x"}});
  }
}

TEST_CASE("a row's refusals are said at the row's fields", "[schema_form]") {
  const FormValues typed = {{"f.subject", "Trasferta"},
                            {"n.expenses", "2"},
                            {"f.expenses.0.description", "Treno"},
                            {"f.expenses.0.amount_cents", "zero"},
                            {"f.expenses.1.description", "Un viaggio lunghissimo"},
                            {"n.contacts", "1"},
                            {"k.contacts.0", "Ufficio"},
                            {"f.contacts.0.phone", "abc"}};
  json payload = PayloadOf(kClaim, typed);
  auto errors = ErrorsOf(kClaim, payload, Violations(kClaim, payload));
  CHECK(errors["expenses.0.amount_cents"] ==
        "Scrivi in «Importo in centesimi» un numero intero non inferiore a 1.");
  CHECK(errors["expenses.1.description"] ==
        "«Descrizione» può avere al massimo 10 caratteri (ne hai scritti 22): accorcia il testo.");
  CHECK(errors["expenses.1.amount_cents"] == "Compila «Importo in centesimi»: è obbligatorio.");
  CHECK(errors["contacts.Ufficio.phone"] == "«Telefono» non ha il formato atteso: correggilo.");

  json form = FormOf(kClaim, "r", typed, errors);
  const json& rows = form["groups"][0]["fields"][1]["items"];
  CHECK(rows[0]["fields"][1]["error"] == errors["expenses.0.amount_cents"]);
  CHECK(rows[0]["fields"][1]["value"] == "zero");
  CHECK(rows[1]["fields"][0]["error"] == errors["expenses.1.description"]);
  CHECK(rows[0]["fields"][0]["error"] == false);
  // An entry's refusal is named by the entry; the form shows it in the entry's row.
  CHECK(FieldNamed(form["groups"][0]["fields"][2]["items"][0]["fields"],
                   "f.contacts.0.phone")["error"] == errors["contacts.Ufficio.phone"]);
}

TEST_CASE("the rows render as nested fieldsets with their buttons", "[schema_form]") {
  auto site = Site::Load(std::string(PROCEDO_SOURCE_DIR) + "/adapters/web");
  REQUIRE(site.ok());
  json form =
      FormOf(kClaim, "rimborso", {{"n.expenses", "2"}, {"f.expenses.1.description", "<b>"}}, {});
  form["title"] = "Chiedi il rimborso";
  const std::string html = (*site)->Render("console_new", "Rimborso", {{"form", form}});
  CHECK(html.find(R"(<input type="hidden" name="n.expenses" value="2">)") != std::string::npos);
  CHECK(html.find(R"(<legend class="h6">Spese 2</legend>)") != std::string::npos);
  CHECK(html.find(R"(name="f.expenses.1.description" value="&lt;b&gt;")") != std::string::npos);
  CHECK(html.find(R"(name="rimuovi" value="expenses.1")") != std::string::npos);
  CHECK(html.find(R"(name="aggiungi" value="expenses")") != std::string::npos);
  CHECK(html.find(R"(name="aggiungi" value="expenses.1.receipts")") != std::string::npos);
  CHECK(html.find(R"(name="k.contacts.0")") != std::string::npos);
  // Enter in a field sends the form: its own button comes before every row button.
  CHECK(html.find("<button type=\"submit\"") ==
        html.find(R"(<button type="submit" class="visually-hidden" tabindex="-1")"));
}
