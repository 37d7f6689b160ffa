#include "domain/catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "engine/workflow/json_schema.h"

namespace procedo::domain {

Result<Catalogue> Catalogue::LoadDir(const std::string& dir, const std::string& schema_path) {
  auto schema = JsonSchema::LoadFile(schema_path);
  if (!schema.ok()) return schema.status();
  auto listed = JsonFilesIn(dir, "catalogue");
  if (!listed.ok()) return listed.status();
  const std::vector<std::string>& files = *listed;
  Catalogue out;
  std::string errors;
  for (const auto& f : files) {
    auto doc = ReadJsonFile(f);
    if (!doc.ok()) {
      errors += "\n  - " + doc.status().message();
      continue;
    }
    auto violations = schema.value()->Validate(doc.value());
    for (const auto& v : violations) {
      errors += fmt::format("\n  - {} at {}: {}; make it match {}", f,
                            v.path.empty() ? "/" : v.path, v.message, schema_path);
    }
    if (!violations.empty()) continue;
    const auto& j = doc.value();
    CatalogueEntry e;
    e.id = j["id"].get<std::string>();
    e.version = j["version"].get<uint32_t>();
    e.workflow = j["workflow"].get<std::string>();
    e.calendar = j["calendar"].get<std::string>();
    e.term_days = j["term"]["days"].get<uint32_t>();
    e.business_days = j["term"]["kind"].get<std::string>() == "business";
    if (auto r = j.find("retention"); r != j.end()) {
      e.retention_years = (*r)["years"].get<uint32_t>();
      e.retention_after = (*r)["after"].get<std::string>();
    }
    e.source = j;
    if (out.entries_.count(e.id)) {
      errors += fmt::format(
          "\n  - {} at /id: procedure id '{}' is already used; give each "
          "procedure its own id",
          f, e.id);
      continue;
    }
    out.entries_.emplace(e.id, std::move(e));
  }
  if (!errors.empty()) return Status::InvalidArgument("invalid procedure catalogue:" + errors);
  return out;
}

const CatalogueEntry* Catalogue::Find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace procedo::domain
