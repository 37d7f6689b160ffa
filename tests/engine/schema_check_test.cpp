// The fast schema check against its references: every pattern of the product's schemas against
// std::regex (ECMAScript, as valijson runs it), and every event and command payload schema
// against valijson, on documents made to land on both sides of each keyword.
#include "engine/workflow/schema_check.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "engine/workflow/json_schema.h"
#include "engine/workflow/schema_regex.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const std::string kSource = PROCEDO_SOURCE_DIR;

// The schemas the product checks documents against: event schemas and command payloads.
std::vector<std::pair<std::string, json>> ProductSchemas() {
  std::vector<std::pair<std::string, json>> out;
  const auto events = JsonFilesIn(kSource + "/schemas/events", "events");
  const auto workflows = JsonFilesIn(kSource + "/domain/workflows", "workflows");
  REQUIRE(events.ok());
  REQUIRE(workflows.ok());
  for (const auto& f : events.value()) out.emplace_back(f, *ReadJsonFile(f));
  for (const auto& f : workflows.value()) {
    json def = *ReadJsonFile(f);
    for (const auto& [name, c] : def["commands"].items()) {
      if (c.contains("payload") && !c["payload"].contains("$event")) {
        out.emplace_back(f + "#" + name, c["payload"]);
      }
    }
  }
  return out;
}

void Patterns(const json& v, std::set<std::string>* out) {
  if (v.is_object()) {
    if (auto p = v.find("pattern"); p != v.end() && p->is_string()) out->insert(*p);
  }
  if (v.is_structured()) {
    for (const auto& item : v) Patterns(item, out);
  }
}

// Strings that satisfy or nearly satisfy the product's patterns, and their neighbours.
const std::vector<std::string> kSamples = {
    "",
    "a",
    "A",
    "0",
    "-",
    "_",
    " ",
    "\n",
    "abc\n",
    "\nabc",
    std::string("a\0b", 3),
    "é",
    "2026-11-01",
    "2026-11",
    "2026-13",
    "2026/27",
    "pd1.AbC-_.9",
    "pd1.",
    "pd1.a b",
    "pd2.abc",
    "a09",
    "12",
    "2026-11-01T10:00:00Z",
    "2026-11-01T10:00:00.123+01:00",
    "2026-11-01T10:00:00",
    "primaria_saint_roch",
    "canteen",
    "meal",
    "M-1",
    "M-1 ",
    "account-comune-aosta-1-canteen",
    "enrolment-comune-aosta-1",
    "m1",
    "m0",
    "m12345",
    "a@b.it",
    "a@@b",
    "@b",
    "+39 333 1234567",
    "12345",
    "TCK-2026-000123",
    "PRA-2026-000001",
    "NUC-2026-000001",
    "RSSMRT80A41A326X",
    "rssmrt80a41a326x",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "3bd",
    "10m",
    "0bd",
    "12:30",
    "24:00",
    "24:01",
    "\"12\"",
    "W/\"12\"",
    "$argon2id$v=19",
    "x.y",
    "x.y.z",
    "x.",
    "https://procedo.dev/problems/not-found",
    "11-30",
    "13-01",
    "bench-op",
    "a b",
    "a\tb",
    std::string(81, 'a'),
    std::string(80, 'a')};

std::vector<std::string> Corpus() {
  std::vector<std::string> out = kSamples;
  std::mt19937 rng(7);
  const std::string alphabet = "aZz09-_.:@+ /T\n\t\"$W";
  for (int i = 0; i < 400; ++i) {
    std::string s;
    const size_t n = rng() % 24;
    for (size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    out.push_back(s);
  }
  // Neighbours of the samples: one character changed, dropped or doubled.
  for (const auto& base : kSamples) {
    if (base.empty()) continue;
    for (int k = 0; k < 6; ++k) {
      std::string s = base;
      const size_t at = rng() % s.size();
      switch (k % 3) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1);
          break;
        default:
          s.insert(at, 1, s[at]);
          break;
      }
      out.push_back(s);
    }
  }
  return out;
}

bool ValijsonAccepts(const json& schema, const json& doc) {
  valijson::Schema compiled;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema);
  parser.populateSchema(schema_adapter, compiled);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  return validator.validate(compiled, target, nullptr);
}

// A document near `schema`: mostly what it asks, sometimes a value of another kind, a bound
// crossed, a required member missing or one more member.
json Near(const json& schema, std::mt19937& rng, int depth = 0) {
  static const std::vector<json> kOdd = {
      nullptr, true, 0, -1, 1.5, "x", json::array(), json::object(), 100001, std::string(300, 'x')};
  if (!schema.is_object() || rng() % 12 == 0 || depth > 6) return kOdd[rng() % kOdd.size()];
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array() && !e->empty()) {
    return rng() % 8 == 0 ? json("not-listed") : (*e)[rng() % e->size()];
  }
  std::string type = schema.value("type", json("object")).is_string()
                         ? schema.value("type", "object")
                         : schema["type"][0].get<std::string>();
  if (type == "string") return kSamples[rng() % kSamples.size()];
  if (type == "integer" || type == "number") {
    std::vector<json> v = {0, 1, 5, 1000, -3};
    for (const char* k : {"minimum", "maximum"}) {
      if (schema.contains(k)) {
        const int64_t b = schema[k].get<int64_t>();
        v.insert(v.end(), {b, b - 1, b + 1});
      }
    }
    return v[rng() % v.size()];
  }
  if (type == "boolean") return rng() % 2 == 0;
  if (type == "array") {
    json a = json::array();
    const size_t n = rng() % 4;
    const json items = schema.value("items", json::object());
    for (size_t i = 0; i < n; ++i) a.push_back(Near(items, rng, depth + 1));
    if (n > 0 && rng() % 5 == 0) a.push_back(a[0]);
    return a;
  }
  json o = json::object();
  const json required = schema.value("required", json::array());
  const json properties = schema.value("properties", json::object());
  for (const auto& [name, sub] : properties.items()) {
    const bool needed = std::find(required.begin(), required.end(), name) != required.end();
    if ((needed && rng() % 10 != 0) || rng() % 3 != 0) o[name] = Near(sub, rng, depth + 1);
  }
  if (rng() % 10 == 0) o["zz_unknown"] = 1;
  return o;
}

TEST_CASE("schema regex: every pattern of the product's schemas answers as std::regex does") {
  std::set<std::string> patterns;
  for (const auto& [file, schema] : ProductSchemas()) Patterns(schema, &patterns);
  for (const char* more :
       {"^[0-9]{4}-(0[1-9]|1[0-2])$|^[0-9]{4}/[0-9]{2}$", "a|b", "(ab)*c", "^(a|ab)(c|bcd)$",
        "x{2,}", "^\\d+\\s?\\w*$", "[^ \\t\\r\\n]", "^\\t?[\\d\\s]+\\W$", "\\n\\f\\v",
        // The straight-line shape (leading classes, one repeated class, both anchors) and its
        // near misses, which the one-pass matcher answers.
        "^pd1\\.[A-Za-z0-9_.-]+$", "^a[0-9]*$", "^[0-9]{2}$", "^$", "^a*$", "^ab+", "a+$"}) {
    patterns.insert(more);
  }
  REQUIRE(patterns.size() > 30);
  const auto corpus = Corpus();
  size_t compiled = 0, matches = 0;
  for (const auto& p : patterns) {
    auto fast = SchemaRegex::Compile(p);
    if (fast == nullptr) continue;
    ++compiled;
    const std::regex reference(p);
    for (const auto& s : corpus) {
      INFO("pattern " << p << " on \"" << s << "\"");
      const bool expected = std::regex_search(s, reference);
      CHECK(fast->Search(s) == expected);
      matches += expected;
    }
  }
  // The product's own patterns all fit the subset; otherwise their checks lose the speed-up.
  CHECK(compiled == patterns.size());
  CHECK(matches > 1000);
}

TEST_CASE("schema regex: syntax outside the subset is left to std::regex") {
  for (const char* p :
       {"a.b", "\\bword", "(?=a)b", "(a)\\1", "[[:alpha:]]", "é", "a{2", "*a", "[]a]", "\\p{L}"}) {
    INFO(p);
    CHECK(SchemaRegex::Compile(p) == nullptr);
  }
}

TEST_CASE("schema check: every product schema agrees with valijson") {
  std::mt19937 rng(11);
  size_t accepted = 0, refused = 0;
  for (const auto& [file, schema] : ProductSchemas()) {
    auto check = SchemaCheck::Compile(schema);
    INFO(file);
    REQUIRE(check != nullptr);
    for (int i = 0; i < 60; ++i) {
      const json doc = Near(schema, rng);
      INFO(doc.dump());
      const bool expected = ValijsonAccepts(schema, doc);
      CHECK(check->Accepts(doc) == expected);
      ++(expected ? accepted : refused);
    }
  }
  CHECK(accepted > 200);
  CHECK(refused > 200);
}

TEST_CASE("schema check: keywords it does not implement leave the schema to valijson") {
  for (const char* s :
       {R"({"$ref": "#/definitions/a", "definitions": {"a": {}}})", R"({"format": "date"})",
        R"({"patternProperties": {"^a": {}}})", R"({"items": [{}, {}]})",
        R"({"if": {}, "then": {}})", R"({"enum": [1.5]})"}) {
    INFO(s);
    CHECK(SchemaCheck::Compile(json::parse(s)) == nullptr);
  }
  // Through JsonSchema such a schema still checks, and a refused document still lists every
  // violation, by valijson.
  auto schema = JsonSchema::Compile(json::parse(R"({
    "type": "object", "required": ["a", "b"], "additionalProperties": false,
    "properties": {"a": {"type": "string", "pattern": "^[a-z]+$"}, "b": {"$ref": "#/$defs/n"}},
    "$defs": {"n": {"type": "integer", "minimum": 1}}})"),
                                    "test");
  REQUIRE(schema.ok());
  CHECK((*schema)->Validate(json::parse(R"({"a": "ok", "b": 2})")).empty());
  CHECK((*schema)->Validate(json::parse(R"({"a": "OK", "b": 0, "c": 1})")).size() >= 3);
}

}  // namespace
}  // namespace procedo::testing
