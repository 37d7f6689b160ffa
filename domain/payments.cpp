#include "domain/payments.h"

#include <fmt/format.h>

#include <filesystem>

#include "domain/payment_notice.h"
#include "engine/workflow/json_schema.h"

namespace procedo::domain {

using nlohmann::json;

Result<PaymentSettingsSet> PaymentSettingsSet::LoadDir(const std::string& dir,
                                                       const std::string& schema_path,
                                                       const std::set<std::string>& tenants) {
  PaymentSettingsSet out;
  if (!std::filesystem::is_directory(dir)) return out;
  auto schema = JsonSchema::LoadFile(schema_path);
  if (!schema.ok()) return schema.status();
  auto listed = JsonFilesIn(dir, "pagoPA settings");
  if (!listed.ok()) return listed.status();
  std::string errors;
  std::map<std::string, std::string> stations;  // segregation code -> tenant
  for (const auto& f : *listed) {
    const std::string tenant = std::filesystem::path(f).stem().string();
    if (!tenants.count(tenant)) {
      errors += fmt::format(
          "\n  - {}: no tenant '{}' in tenants.json; name the file after a tenant (<tenant>.json)",
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
    const json& c = (*doc)["creditor"];
    PaymentSettings s;
    s.creditor_fiscal_code = c["fiscal_code"];
    s.creditor_name = c["name"];
    s.office = c.value("office", "");
    s.info = c.value("info", "");
    s.cbill = c["cbill"];
    s.segregation_code = (*doc)["segregation_code"];
    s.first_iuv_base = doc->value("first_iuv_base", uint64_t{1});
    s.iban = (*doc)["iban"];
    for (const auto& [purpose, code] : (*doc)["categories"].items()) s.categories[purpose] = code;
    out.tenants_.emplace(tenant, std::move(s));
  }
  if (!errors.empty()) return Status::InvalidArgument("invalid pagoPA settings:" + errors);
  return out;
}

const PaymentSettings* PaymentSettingsSet::ForTenant(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : &it->second;
}

std::string IuvCounterStream(const std::string& tenant, const std::string& segregation_code) {
  return fmt::format("iuv-{}-{}", tenant, segregation_code);
}

void RegisterPaymentHooks(HookRegistry& hooks, std::shared_ptr<const PaymentSettingsSet> settings) {
  // Decided before anything is allocated: an Ente without a pagoPA station has no debt positions.
  hooks.AddGuard("takes_pagopa_payments",
                 [settings](const DecideContext& c) -> std::optional<std::string> {
                   const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
                   if (settings && settings->ForTenant(tenant) != nullptr) return std::nullopt;
                   return fmt::format(
                       "{} takes no payments through pagoPA: add its settings as "
                       "domain/payments/{}.json (schemas/payments.schema.json)",
                       tenant, tenant);
                 });
  hooks.AddAllocator(
      "notice_number",
      [settings](const StreamVersionOf& version_of, const DecideContext& c, const std::string&,
                 json& data, std::vector<AllocatedEvent>* also) -> Status {
        const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
        const PaymentSettings* s = settings ? settings->ForTenant(tenant) : nullptr;
        if (s == nullptr) {
          return Status::InvalidArgument(
              fmt::format("{} takes no payments through pagoPA: add its settings as "
                          "domain/payments/{}.json (schemas/payments.schema.json)",
                          tenant, tenant),
              Status::SubCode::kReferenceMissing);
        }
        const std::string purpose = data.value("purpose", "");
        auto category = s->categories.find(purpose);
        if (category == s->categories.end()) {
          return Status::InvalidArgument(fmt::format(
              "no pagoPA category for purpose '{}' in domain/payments/{}.json", purpose, tenant));
        }
        const std::string counter = IuvCounterStream(tenant, s->segregation_code);
        auto version = version_of(counter);
        if (!version.ok()) return version.status();
        auto number = IssueNoticeNumber(s->segregation_code, s->first_iuv_base + *version);
        if (!number.ok()) return number.status();
        data["notice_number"] = number->digits();
        data["iuv"] = number->Iuv();
        // The position's id at pagoPA: the Ente's fiscal code and the stream, the same on every
        // retry of its publication.
        data["iupd"] = fmt::format("{}-{}", s->creditor_fiscal_code, c.state.stream);
        data["creditor_fiscal_code"] = s->creditor_fiscal_code;
        data["transfers"] = json::array({{{"id", "1"},
                                          {"amount_cents", data.value("amount_cents", 0)},
                                          {"iban", s->iban},
                                          {"category", category->second}}});
        also->push_back(
            {counter, *version, "iuv.assigned",
             json{{"claimed_by", c.state.stream}, {"notice_number", number->digits()}}});
        return Status::Ok();
      });
}

}  // namespace procedo::domain
