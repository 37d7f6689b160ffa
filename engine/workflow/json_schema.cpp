#include "engine/workflow/json_schema.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#if !VALIJSON_USE_EXCEPTIONS
#error "build with VALIJSON_USE_EXCEPTIONS=1 (engine/CMakeLists.txt): valijson aborts otherwise"
#endif
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "engine/workflow/schema_check.h"

namespace procedo {

struct JsonSchema::Impl {
  valijson::Schema schema;
  std::unique_ptr<SchemaCheck> check;  // null: valijson alone
};

JsonSchema::JsonSchema() : impl_(std::make_unique<Impl>()) {}
JsonSchema::~JsonSchema() = default;

std::string FormatViolations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out += "; ";
    out += (v.path.empty() ? std::string("(root)") : v.path) + ": " + v.message;
  }
  return out;
}

Result<JsonSchemaPtr> JsonSchema::Compile(const nlohmann::json& schema, std::string name) {
  std::shared_ptr<JsonSchema> s(new JsonSchema());
  s->name_ = std::move(name);
  s->source_ = schema;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(s->source_);
    parser.populateSchema(adapter, s->impl_->schema);
    s->impl_->check = SchemaCheck::Compile(s->source_);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(fmt::format(
        "{}: not a usable JSON Schema ({}); use draft-7-compatible keywords and local $ref only",
        s->name_, e.what()));
  }
  return JsonSchemaPtr(std::move(s));
}

Result<JsonSchemaPtr> JsonSchema::LoadFile(const std::string& path) {
  auto doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  return Compile(doc.value(), path);
}

// valijson's context is {"<root>", "[field]", "[0]", ...}; a JSON Pointer is what every other
// error in the product uses.
static std::string ContextToPointer(const std::vector<std::string>& context) {
  std::string out;
  for (size_t i = 1; i < context.size(); ++i) {
    std::string c = context[i];
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']') c = c.substr(1, c.size() - 2);
    if (c.size() >= 2 && c.front() == '"' && c.back() == '"') c = c.substr(1, c.size() - 2);
    out += "/" + c;
  }
  return out;
}

namespace {

bool IntegralFloat(const nlohmann::json& v) {
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e18;
}

bool HasIntegralFloat(const nlohmann::json& v) {
  if (IntegralFloat(v)) return true;
  if (!v.is_structured()) return false;
  for (const auto& item : v) {
    if (HasIntegralFloat(item)) return true;
  }
  return false;
}

void IntegralFloatsToIntegers(nlohmann::json& v) {
  if (IntegralFloat(v)) {
    v = static_cast<int64_t>(v.get<double>());
  } else if (v.is_structured()) {
    for (auto& item : v) IntegralFloatsToIntegers(item);
  }
}

}  // namespace

std::vector<SchemaViolation> JsonSchema::Validate(const nlohmann::json& document) const {
  // JSON Schema's "integer" is any number without a fractional part, 3.0 included; valijson
  // looks at how the number was written, so such numbers are shown to it as integers.
  if (HasIntegralFloat(document)) {
    nlohmann::json copy = document;
    IntegralFloatsToIntegers(copy);
    return Validate(copy);
  }
  if (impl_->check != nullptr && impl_->check->Accepts(document)) return {};
  // The validator caches compiled regexes and is not thread-safe; one per thread is enough.
  thread_local valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(document);
  valijson::ValidationResults results;
  std::vector<SchemaViolation> out;
  if (validator.validate(impl_->schema, target, &results)) return out;
  valijson::ValidationResults::Error error;
  std::vector<SchemaViolation> all;
  while (results.popError(error)) {
    all.push_back({ContextToPointer(error.context), error.description});
  }
  // Composite keywords report a summary and then each cause; keep the causes, which say what
  // to change, and the summaries only where nothing more specific was said about that path.
  for (const auto& v : all) {
    bool summary = v.message.find("Failed to validate against") != std::string::npos ||
                   v.message.find("Failed to validate item") != std::string::npos ||
                   v.message.find("Object contains properties that could not be validated") !=
                       std::string::npos;
    bool more_specific = false;
    for (const auto& w : all) {
      if (&w != &v && w.path.rfind(v.path, 0) == 0 &&
          w.message.find("Failed to validate") == std::string::npos) {
        more_specific = true;
      }
    }
    if (summary && more_specific) continue;
    out.push_back(v);
  }
  if (out.empty()) out = std::move(all);
  return out;
}

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open the file", path));
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    return nlohmann::json::parse(buf.str());
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument(
        fmt::format("{}: not valid JSON at byte {}: {}", path, e.byte, e.what()));
  }
}

Result<EventSchemas> EventSchemas::LoadDir(const std::string& dir) {
  EventSchemas out;
  out.dir_ = dir;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound(fmt::format("{}: the event schema directory does not exist", dir));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    auto s = JsonSchema::LoadFile(p.string());
    if (!s.ok()) return s.status();
    auto sites = PersonalSitesOf((*s)->source(), p.string());
    if (!sites.ok()) return sites.status();
    if (!sites->empty()) out.personal_[p.stem().string()] = std::move(sites).value();
    out.schemas_[p.stem().string()] = std::move(s).value();
  }
  return out;
}

const JsonSchema* EventSchemas::Find(const std::string& type) const {
  auto it = schemas_.find(type);
  return it == schemas_.end() ? nullptr : it->second.get();
}

const std::vector<PersonalSite>* EventSchemas::Personal(const std::string& type) const {
  auto it = personal_.find(type);
  return it == personal_.end() ? nullptr : &it->second;
}

Status EventSchemas::Check(const std::string& type, const nlohmann::json& data) const {
  const JsonSchema* s = Find(type);
  if (s == nullptr) {
    return Status::InvalidArgument(
        fmt::format("event type {} has no schema: add {}/{}.json", type, dir_, type));
  }
  auto violations = s->Validate(data);
  if (violations.empty()) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("event {} does not match {}: {}", type, s->name(), FormatViolations(violations)));
}

Result<std::vector<std::string>> JsonFilesIn(const std::string& dir, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound(fmt::format("{}: the {} directory does not exist", dir, what));
  }
  std::vector<std::string> files;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".json") files.push_back(it->path().string());
  }
  if (ec)
    return Status::IoError(
        fmt::format("{}: cannot list the {} directory: {}", dir, what, ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace procedo
