// The public-administration product on top of the generic engine: roles, the procedure
// catalogue, the workflow definitions of domain/workflows and the guards, effects and
// allocators those definitions name.
#pragma once

#include <map>
#include <memory>
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

// Registers every guard, effect and allocator the definitions may name. `regions` maps a tenant
// to the Region its applications are forwarded to (domain/calendars/tenants.json).
void RegisterHooks(HookRegistry& hooks, std::shared_ptr<const Catalogue> catalogue,
                   std::map<std::string, std::string> regions);
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
  WorkflowSet workflows;
};

// Loads <domain_dir>/catalogue, <domain_dir>/services and <domain_dir>/workflows against
// <schemas_dir>. Any invalid
// file fails the whole load with every problem listed: the server must not start on it.
Result<std::unique_ptr<Domain>> LoadDomain(const std::string& domain_dir,
                                           const std::string& schemas_dir);

}  // namespace procedo::domain
