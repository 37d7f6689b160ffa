// The data files a tenant has one of (domain/services/<tenant>.json,
// domain/payments/<tenant>.json): one rule for finding them, naming them after a tenant and
// checking them against their schema.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "engine/base/status.h"

namespace procedo::domain {

// Calls `use` with each valid <tenant>.json of `dir` (no directory: none). A file named after no
// tenant of `tenants`, unreadable, or refused by the schema at `schema_path` is listed instead;
// `use` adds its own problems to `errors`. InvalidArgument "invalid <what>:" with every problem,
// one per line, when there is any.
Status ForEachTenantFile(
    const std::string& dir, const std::string& schema_path, const std::set<std::string>& tenants,
    const std::string& what,
    const std::function<void(const std::string& file, const std::string& tenant,
                             const nlohmann::json& doc, std::string* errors)>& use);

}  // namespace procedo::domain
