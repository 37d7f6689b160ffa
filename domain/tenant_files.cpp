#include "domain/tenant_files.h"

#include <fmt/format.h>

#include <filesystem>

#include "engine/workflow/json_schema.h"

namespace procedo::domain {

Status ForEachTenantFile(
    const std::string& dir, const std::string& schema_path, const std::set<std::string>& tenants,
    const std::string& what,
    const std::function<void(const std::string& file, const std::string& tenant,
                             const nlohmann::json& doc, std::string* errors)>& use) {
  if (!std::filesystem::is_directory(dir)) return Status::Ok();
  auto schema = JsonSchema::LoadFile(schema_path);
  if (!schema.ok()) return schema.status();
  auto listed = JsonFilesIn(dir, what);
  if (!listed.ok()) return listed.status();
  std::string errors;
  for (const auto& f : *listed) {
    const std::string tenant = std::filesystem::path(f).stem().string();
    if (!tenants.count(tenant)) {
      errors += fmt::format(
          "\n  - {}: no tenant '{}' in tenants.json; name the file after a tenant "
          "(<tenant>.json) or add the tenant",
          f, tenant);
      continue;
    }
    auto doc = ReadJsonFile(f);
    if (!doc.ok()) {
      errors += "\n  - " + doc.status().message();
      continue;
    }
    auto violations = schema.value()->Validate(*doc);
    for (const auto& v : violations) {
      errors += fmt::format("\n  - {} at {}: {}; make it match {}", f,
                            v.path.empty() ? "/" : v.path, v.message, schema_path);
    }
    if (!violations.empty()) continue;
    use(f, tenant, *doc, &errors);
  }
  if (!errors.empty()) return Status::InvalidArgument(fmt::format("invalid {}:{}", what, errors));
  return Status::Ok();
}

}  // namespace procedo::domain
