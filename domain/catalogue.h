// The procedure catalogue ("catalogo dei procedimenti"): one data file per procedure. A case
// copies the entry it started under into its first event, so editing a file later never
// changes an existing case's office, responsible person or term.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/base/status.h"

namespace procedo::domain {

struct CatalogueEntry {
  std::string id;
  uint32_t version = 1;
  std::string workflow;  // a workflow id
  std::string calendar;  // a calendar id
  uint32_t term_days = 0;
  bool business_days = false;
  // The personal data of a stream of the procedure is erased this many years after the event
  // type `retention_after` (0: kept until an erasure is ordered).
  uint32_t retention_years = 0;
  std::string retention_after;
  nlohmann::json source;  // the whole entry, as written
  // "30cd" or "20bd": the SLA target notation of workflow definitions.
  std::string TermTarget() const {
    return std::to_string(term_days) + (business_days ? "bd" : "cd");
  }
};

class Catalogue {
 public:
  // Every *.json under `dir`, each validated against `schema_path`; ids must be unique.
  static Result<Catalogue> LoadDir(const std::string& dir, const std::string& schema_path);
  const CatalogueEntry* Find(const std::string& id) const;
  const std::map<std::string, CatalogueEntry>& entries() const { return entries_; }

 private:
  std::map<std::string, CatalogueEntry> entries_;
};

}  // namespace procedo::domain
