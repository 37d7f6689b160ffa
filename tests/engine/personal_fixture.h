// What the personal-data tests share: a log with its subjects' key store beside it, and an event
// schema that marks personal fields (a subject's object, and a list of them).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/crypto/personal.h"
#include "log_fixture.h"

namespace procedo::testing {

inline const std::string kErased = "[erased]";

inline crypto::SubjectKey Master() {
  crypto::SubjectKey m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 3 + 5);
  return m;
}

// A log, and the key store beside it.
struct Keys {
  testing::LogFixture logf;
  std::unique_ptr<crypto::SubjectKeyStore> store;
  std::unique_ptr<crypto::PersonalData> personal;
  Keys() {
    store = crypto::SubjectKeyStore::Open(*logf.log, Master()).value();
    personal = std::make_unique<crypto::PersonalData>(*store, kErased);
  }
  ~Keys() {
    personal.reset();
    store.reset();
  }
};

#define SEALED R"({"type": "string", "pattern": "^pd1\\.[A-Za-z0-9_.-]+$"})"

inline const nlohmann::json kSchema = nlohmann::json::parse(R"({
  "type": "object",
  "properties": {
    "office": {"type": "string"},
    "applicant": {
      "type": "object", "x-data-subject": true, "additionalProperties": false,
      "properties": {
        "subject": {"type": "string"},
        "name": {"x-personal": "identity",
                 "anyOf": [{"type": "string", "minLength": 1}, )" SEALED R"(]},
        "email": {"x-personal": "contact", "x-identifies": true,
                  "anyOf": [{"type": "string", "pattern": "^[^@]+@[^@]+$"}, )" SEALED R"(]},
        "age_band": {"type": "string"}
      }
    },
    "children": {"type": "array", "items": {
      "type": "object", "x-data-subject": true,
      "properties": {"subject": {"type": "string"},
                     "name": {"x-personal": "special",
                              "anyOf": [{"type": "string"}, )" SEALED R"(]}}}}
  }
})");

}  // namespace procedo::testing
