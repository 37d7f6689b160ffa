// A compiled JSON Schema that reports every violation with its JSON path, so a rejected payload
// tells the caller all that is wrong at once instead of one problem per round trip.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/workflow/personal_fields.h"

namespace procedo {

struct SchemaViolation {
  std::string path;     // JSON Pointer into the validated document, "" for the root
  std::string message;  // what the schema asked for
};

std::string FormatViolations(const std::vector<SchemaViolation>& violations);

class JsonSchema {
 public:
  // `name` appears in errors ("schemas/events/case.started.json"). A schema valijson cannot
  // compile (draft 7 keywords, local $ref only) is an InvalidArgument naming it.
  static Result<std::shared_ptr<const JsonSchema>> Compile(const nlohmann::json& schema,
                                                           std::string name);
  static Result<std::shared_ptr<const JsonSchema>> LoadFile(const std::string& path);
  ~JsonSchema();

  // Every violation; empty when the document conforms. Thread-safe.
  std::vector<SchemaViolation> Validate(const nlohmann::json& document) const;
  const std::string& name() const { return name_; }
  const nlohmann::json& source() const { return source_; }

 private:
  JsonSchema();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  nlohmann::json source_;
};

using JsonSchemaPtr = std::shared_ptr<const JsonSchema>;

// The schemas of event types, one file per type: <dir>/<type>.json.
class EventSchemas {
 public:
  // Loads every *.json under `dir`; the file name (without .json) is the event type.
  static Result<EventSchemas> LoadDir(const std::string& dir);
  const JsonSchema* Find(const std::string& type) const;
  // OK, or InvalidArgument listing every violation (or that the type has no schema).
  Status Check(const std::string& type, const nlohmann::json& data) const;
  const std::string& dir() const { return dir_; }
  size_t size() const { return schemas_.size(); }
  // The personal fields the type's schema marks (personal_fields.h); null when it marks none.
  const std::vector<PersonalSite>* Personal(const std::string& type) const;

 private:
  std::string dir_;
  std::map<std::string, JsonSchemaPtr> schemas_;
  std::map<std::string, std::vector<PersonalSite>, std::less<>> personal_;
};

// The *.json files of a directory, sorted; NotFound naming `what` when it is not a directory.
Result<std::vector<std::string>> JsonFilesIn(const std::string& dir, const std::string& what);

// Reads and parses a JSON file; errors name the file and the parse position.
Result<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace procedo
