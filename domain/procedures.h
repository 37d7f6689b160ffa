// The public-administration product on top of the generic engine: roles, the procedure
// catalogue, the workflow definitions of domain/workflows and the guards, effects and
// allocators those definitions name.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "domain/access.h"
#include "domain/calendars.h"
#include "domain/catalogue.h"
#include "domain/payments.h"
#include "domain/services.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/json_schema.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

// Which tenant a data subject belongs to (nullopt: none, or personal data is not sealed here).
// The server sets it from its subject key store once it has opened it; unset, erasures are
// refused, since there is nothing to erase.
class SubjectOwners {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string& subject)>;
  void Set(Lookup lookup);
  std::optional<std::string> TenantOf(const std::string& subject) const;
  bool set() const;

 private:
  mutable std::mutex mu_;
  Lookup lookup_;
};

// Registers every guard, effect and allocator the definitions may name. `regions` maps a tenant
// to the Region its applications are forwarded to (domain/calendars/tenants.json).
void RegisterHooks(HookRegistry& hooks, std::shared_ptr<const Catalogue> catalogue,
                   std::map<std::string, std::string> regions,
                   std::shared_ptr<const SubjectOwners> owners);
// The enrolment's guards over the services catalogue: services_offered (step 1) and
// details_answer_questions (step 2).
void RegisterServiceHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services);

struct Domain {
  std::string domain_dir;
  std::string schemas_dir;
  EventSchemas events;
  std::shared_ptr<const Catalogue> catalogue;
  std::shared_ptr<const ServiceCatalogue> services;    // per tenant: domain/services/<tenant>.json
  std::shared_ptr<const PaymentSettingsSet> payments;  // per tenant: domain/payments/<tenant>.json
  std::shared_ptr<const CalendarCatalog> calendars;
  std::shared_ptr<HookRegistry> hooks;
  std::shared_ptr<SubjectOwners> subject_owners = std::make_shared<SubjectOwners>();
  WorkflowSet workflows;
};

// Loads <domain_dir>/catalogue, <domain_dir>/services and <domain_dir>/workflows against
// <schemas_dir>. Any invalid
// file fails the whole load with every problem listed: the server must not start on it.
Result<std::unique_ptr<Domain>> LoadDomain(const std::string& domain_dir,
                                           const std::string& schemas_dir);

}  // namespace procedo::domain
