// Personal data in events: which fields the schemas mark, how they are sealed (the emitter's part
// is in personal_sealing_test.cpp), how readers see them (opened, or "[dato cancellato]" once the
// key is erased), and the subject index that finds one person again by a keyed hash of an
// identifier.
#include <catch2/catch.hpp>

#include "engine/crypto/personal.h"
#include "engine/workflow/personal_fields.h"
#include "personal_fixture.h"

namespace procedo {
namespace {

using nlohmann::json;
using testing::kErased;
using testing::Keys;
using testing::kSchema;

}  // namespace

TEST_CASE("the schemas' marks name each subject's object and its personal fields", "[crypto]") {
  auto sites = PersonalSitesOf(kSchema, "t.json").value();
  REQUIRE(sites.size() == 2);
  CHECK(sites[0].path == std::vector<std::string>{"applicant"});
  REQUIRE(sites[0].fields.size() == 2);
  CHECK(sites[0].fields[0].name == "email");
  CHECK(sites[0].fields[0].group == "contact");
  CHECK(sites[0].fields[0].identifies);
  CHECK(sites[0].fields[1].name == "name");
  CHECK(sites[0].fields[1].group == "identity");
  CHECK(sites[1].path == std::vector<std::string>{"children", "*"});

  // Marks that cannot be honoured are refused, naming the place.
  const char* bad[] = {
      R"({"properties": {"name": {"type": "string", "x-personal": "identity"}}})",
      R"({"properties": {"a": {"type": "object", "x-data-subject": true,
          "properties": {"subject": {"type": "string"},
                         "n": {"type": "string", "x-personal": "gossip"}}}}})",
      R"({"properties": {"a": {"type": "object", "x-data-subject": true,
          "properties": {"subject": {"type": "string"},
                         "n": {"type": "integer", "x-personal": "identity"}}}}})",
      R"({"properties": {"a": {"type": "object", "x-data-subject": true,
          "properties": {"n": {"type": "string", "x-personal": "identity"}}}}})",
      // The given form alone: the published schema would not hold for the sealed value.
      R"({"properties": {"a": {"type": "object", "x-data-subject": true,
          "properties": {"subject": {"type": "string"},
                         "n": {"type": "string", "x-personal": "identity"}}}}})",
  };
  for (const char* b : bad) {
    INFO(b);
    auto r = PersonalSitesOf(json::parse(b), "bad.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(r.status().message().find("bad.json") != std::string::npos);
  }
}

TEST_CASE("personal fields are sealed for their event and path, and shown until erased",
          "[crypto]") {
  Keys k;
  auto sites = PersonalSitesOf(kSchema, "t.json").value();
  const std::string event = "0190d5a2-7c11-7000-8000-0000000000aa";
  json data = json::parse(R"({"office": "Anagrafe",
      "applicant": {"name": "Maria Rossi", "email": "maria@example.it", "age_band": "30-39"},
      "children": [{"name": "Luca Rossi"}, {"name": "Anna Rossi"}]})");
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, data).ok());
  const std::string text = data.dump();
  for (const char* clear : {"Maria", "maria@example.it", "Luca", "Anna"}) {
    CHECK(text.find(clear) == std::string::npos);
  }
  CHECK(data["office"] == "Anagrafe");  // not personal: kept as given
  CHECK(data["applicant"]["age_band"] == "30-39");
  const std::string subject = data["applicant"]["subject"];
  CHECK(subject.starts_with("subj-"));
  CHECK(data["children"][0]["subject"] != data["children"][1]["subject"]);
  // Where a sealed value stands, alone or inside a text, for decide to refuse it in a payload.
  CHECK(SealedValueAt(data) == "/applicant/email");
  CHECK(
      SealedValueAt(json{
          {"note", {"x", "vedi " + data["applicant"]["name"].get<std::string>() + ". Grazie"}}}) ==
      "/note/1");
  CHECK_FALSE(SealedValueAt(json{{"note", "pd1.not.a.value"}, {"n", 1}}).has_value());

  // Opened in place, or anywhere a projection copied it; moved to another event or field, not.
  const std::string name = data["applicant"]["name"];
  CHECK(k.personal->Open(name, event, "/applicant/name").value() == "Maria Rossi");
  CHECK(k.personal->Open(name).value() == "Maria Rossi");
  CHECK(k.personal->Open(name, "0190d5a2-7c11-7000-8000-0000000000bb", "/applicant/name")
            .status()
            .IsCorruption());
  CHECK(k.personal->Open(name, event, "/applicant/email").status().IsCorruption());
  CHECK(k.personal->Open(data["children"][1]["name"].get<std::string>(), event, "/children/1/name")
            .value() == "Anna Rossi");
  // A personal field that holds a sealed value (a copy the system made) is kept as it is.
  json again = data;
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, again).ok());
  CHECK(again == data);

  // A view's row: every whole personal string shown, escaped as JSON; other text untouched.
  json row = {{"who", data["applicant"]["name"]},
              {"mail", data["applicant"]["email"]},
              {"note", "pd1.not-a-value"},
              {"nested", json(data["applicant"]).dump()}};
  std::string shown = row.dump();
  k.personal->ShowInPlace(shown);
  json back = json::parse(shown);
  CHECK(back["who"] == "Maria Rossi");
  CHECK(back["mail"] == "maria@example.it");
  CHECK(back["note"] == "pd1.not-a-value");
  CHECK(back["nested"] == row["nested"]);  // an escaped JSON text inside a string: left alone
  std::string plain = R"({"a":"b"})";
  k.personal->ShowInPlace(plain);
  CHECK(plain == R"({"a":"b"})");

  // A message's text: each value shown raw, the sentence's full stop kept.
  CHECK(k.personal->ShowText("Gentile " + name + ", scriva a " +
                             data["applicant"]["email"].get<std::string>() + ".\n") ==
        "Gentile Maria Rossi, scriva a maria@example.it.\n");
  CHECK(k.personal->ShowText("xpd1.abc pd1.") == "xpd1.abc pd1.");

  // The contact group erased: e-mail gone everywhere, name still shown.
  REQUIRE(k.store->Erase(subject, "contact").ok());
  CHECK(k.personal->Open(data["applicant"]["email"].get<std::string>()).status().code() ==
        Status::Code::kPermissionDenied);
  json doc = row;
  k.personal->ShowAll(doc);
  CHECK(doc["who"] == "Maria Rossi");
  CHECK(doc["mail"] == kErased);
  // Everything erased.
  REQUIRE(k.store->Erase(subject, "").ok());
  CHECK(k.personal->Show(name) == kErased);
  CHECK(k.personal->Show("Mario") == "Mario");
}

TEST_CASE("facts of a person kept beside their object are sealed with their key, any type",
          "[crypto]") {
  Keys k;
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "applicant": {"type": "object", "x-data-subject": true,
        "properties": {"subject": {"type": "string"},
                       "name": {"x-personal": "identity",
                                "anyOf": [{"type": "string"}, )" SEALED R"(]}}},
      "isee_cents": {"x-personal": "special", "x-subject": "applicant",
                     "anyOf": [{"type": "integer"}, )" SEALED R"(]},
      "home": {"x-personal": "contact", "x-subject": "applicant",
               "anyOf": [{"type": "object"}, )" SEALED R"(]},
      "resident": {"type": "boolean"}
    }
  })");
  auto sites = PersonalSitesOf(schema, "t.json").value();
  REQUIRE(sites.size() == 1);
  CHECK(sites[0].beside.size() == 2);
  const std::string event = "0190d5a2-7c11-7000-8000-0000000000cc";
  json data = json::parse(R"({"applicant": {"name": "Maria Rossi"}, "isee_cents": 700000,
      "home": {"street": "Via Roma 1", "city": "Aosta"}, "resident": true})");
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, data).ok());
  for (const char* clear : {"700000", "Via Roma", "Aosta"}) {
    CHECK(data.dump().find(clear) == std::string::npos);
  }
  CHECK(data["resident"] == true);
  const std::string isee = data["isee_cents"];
  auto parsed = crypto::ParsePersonal(isee);
  REQUIRE(parsed.has_value());
  CHECK(parsed->json);
  CHECK(parsed->group == "special");
  CHECK(parsed->subject == data["applicant"]["subject"]);
  // Shown back as what was given: a number, an object; in a view's text as in a document.
  CHECK(k.personal->ShowJson(isee) == 700000);
  CHECK(k.personal->Open(isee, event, "/isee_cents").value() == "700000");
  CHECK(k.personal->Open(isee, event, "/home").status().IsCorruption());
  json doc = data;
  k.personal->ShowAll(doc);
  CHECK(doc["isee_cents"] == 700000);
  CHECK(doc["home"] == json{{"street", "Via Roma 1"}, {"city", "Aosta"}});
  std::string row = data.dump();
  k.personal->ShowInPlace(row);
  CHECK(json::parse(row)["isee_cents"] == 700000);
  // The tag is bound: the same ciphertext read as a string's does not open.
  std::string retagged = isee;
  retagged.replace(retagged.rfind("j1."), 3, "v1.");
  CHECK_FALSE(k.personal->Open(retagged).ok());
  CHECK(k.personal->ShowJson(retagged) == kErased);
  // Sealed once: a second pass keeps the sealed values.
  json again = data;
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, again).ok());
  CHECK(again == data);
  // Without the person's object, the fact would have nobody's key: refused, nothing sealed.
  json orphan = {{"isee_cents", 5}};
  const Status refused = SealPersonal(sites, *k.personal, "t1", event, orphan);
  CHECK(refused.IsInvalidArgument());
  CHECK_THAT(refused.message(), Catch::Contains("/isee_cents") && Catch::Contains("/applicant"));
  CHECK(orphan["isee_cents"] == 5);
  // Erased with its group: read as erased, the identity group still shown.
  REQUIRE(k.store->Erase(data["applicant"]["subject"].get<std::string>(), "special").ok());
  CHECK(k.personal->ShowJson(isee) == kErased);
  doc = data;
  k.personal->ShowAll(doc);
  CHECK(doc["isee_cents"] == kErased);
  CHECK(doc["applicant"]["name"] == "Maria Rossi");

  // Marks that cannot be honoured.
  for (const char* bad : {
           R"({"properties": {"a": {"type": "object"},
               "x": {"x-personal": "special", "x-subject": "a", "anyOf": [{}, )" SEALED R"(]}}})",
           R"({"properties": {"a": {"type": "object", "x-data-subject": true, "properties": {
               "subject": {"type": "string"}, "n": {"x-personal": "identity",
               "anyOf": [{"type": "string"}, )" SEALED R"(]}}},
               "x": {"x-subject": "a", "anyOf": [{}, )" SEALED R"(]}}})",
           R"({"properties": {"a": {"type": "object", "x-data-subject": true, "properties": {
               "subject": {"type": "string"}, "n": {"x-personal": "identity",
               "anyOf": [{"type": "string"}, )" SEALED R"(]}}},
               "x": {"x-personal": "special", "x-subject": "a", "type": "integer"}}})"}) {
    INFO(bad);
    CHECK(PersonalSitesOf(json::parse(bad), "bad.json").status().IsInvalidArgument());
  }
}

TEST_CASE("an identifier finds its subject again until its group is erased", "[crypto]") {
  Keys k;
  const std::string a = k.store->SubjectFor("t1", "Maria@Example.it ", "contact").value();
  CHECK(k.store->SubjectFor("t1", "maria@example.it", "contact").value() == a);
  CHECK(k.store->SubjectFor("t1", "luca@example.it", "contact").value() != a);
  CHECK(k.store->SubjectFor("t1", "  ", "contact").status().IsInvalidArgument());
  // Two events of one person share the subject through the identifying field.
  auto sites = PersonalSitesOf(kSchema, "t.json").value();
  json one = {{"applicant", {{"name", "Maria"}, {"email", "maria@example.it"}}}};
  json two = {{"applicant", {{"name", "Maria R."}, {"email", "MARIA@example.it"}}}};
  REQUIRE(SealPersonal(sites, *k.personal, "t1", "e1", one).ok());
  REQUIRE(SealPersonal(sites, *k.personal, "t1", "e2", two).ok());
  CHECK(one["applicant"]["subject"] == a);
  CHECK(two["applicant"]["subject"] == a);
  // A subject given by the caller is kept.
  json given = {{"applicant", {{"name", "Maria"}, {"subject", "subj-given"}}}};
  REQUIRE(SealPersonal(sites, *k.personal, "t1", "e3", given).ok());
  CHECK(given["applicant"]["subject"] == "subj-given");
  CHECK(k.store->TenantOf("subj-given") == "t1");
  CHECK(k.store->TenantOf(a) == "t1");
  CHECK_FALSE(k.store->TenantOf("subj-never").has_value());

  // Another tenant: the same e-mail is another subject, and a subject of t1 is not t2's.
  CHECK(k.store->SubjectFor("t2", "maria@example.it", "contact").value() != a);
  CHECK(k.store->Claim(a, "t2").code() == Status::Code::kPermissionDenied);
  json foreign = {{"applicant", {{"name", "Maria"}, {"subject", a}}}};
  CHECK(SealPersonal(sites, *k.personal, "t2", "e4", foreign).code() ==
        Status::Code::kPermissionDenied);

  // Erasing the contact group drops the identifier's entry: it now finds nobody, and a new
  // sighting is a new subject.
  REQUIRE(k.store->Erase(a, "contact").ok());
  const std::string b = k.store->SubjectFor("t1", "maria@example.it", "contact").value();
  CHECK(b != a);
}

}  // namespace procedo
