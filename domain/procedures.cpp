#include "domain/procedures.h"

#include <fmt/format.h>

#include <algorithm>

#include "domain/accounts.h"
#include "domain/calendars.h"
#include "domain/citizen_access.h"
#include "domain/closures.h"
#include "domain/domain_paths.h"
#include "domain/numbers.h"

namespace procedo::domain {

Result<std::unique_ptr<Domain>> LoadDomain(const std::string& domain_dir,
                                           const std::string& schemas_dir) {
  auto d = std::make_unique<Domain>();
  d->domain_dir = domain_dir;
  d->schemas_dir = schemas_dir;
  auto events = EventSchemas::LoadDir(schemas_dir + "/events");
  if (!events.ok()) return events.status();
  d->events = std::move(events).value();

  auto catalogue =
      Catalogue::LoadDir(CatalogueDir(domain_dir), schemas_dir + "/catalogue.schema.json");
  if (!catalogue.ok()) return catalogue.status();
  d->catalogue = std::make_shared<const Catalogue>(std::move(catalogue).value());

  // The calendars a workflow or catalogue entry may name are the domain's calendar files: a new
  // calendar is a new file, never a code change. The same directory's tenants.json names each
  // tenant's Region.
  auto calendars = CalendarCatalog::LoadDomain(domain_dir);
  if (!calendars.ok()) return calendars.status();
  const std::vector<std::string> ids = calendars->Ids();
  const std::set<std::string> calendar_ids(ids.begin(), ids.end());
  std::map<std::string, std::string> regions;
  for (const auto& t : calendars->Tenants()) {
    if (!t.region.empty()) regions[t.id] = t.region;
  }

  std::set<std::string> tenant_ids;
  for (const auto& t : calendars->Tenants()) tenant_ids.insert(t.id);
  auto services = ServiceCatalogue::LoadDir(ServicesDir(domain_dir),
                                            schemas_dir + "/services.schema.json", tenant_ids);
  if (!services.ok()) return services.status();
  d->services = std::make_shared<const ServiceCatalogue>(std::move(services).value());
  auto payments = PaymentSettingsSet::LoadDir(PaymentsDir(domain_dir),
                                              schemas_dir + "/payments.schema.json", tenant_ids);
  if (!payments.ok()) return payments.status();
  d->payments = std::make_shared<const PaymentSettingsSet>(std::move(payments).value());

  d->calendars = std::make_shared<const CalendarCatalog>(std::move(calendars).value());
  d->hooks = std::make_shared<HookRegistry>();
  RegisterHooks(*d->hooks, d->catalogue, std::move(regions), d->subject_owners);
  RegisterClosureHooks(*d->hooks, d->calendars);
  RegisterCitizenHooks(*d->hooks);
  RegisterServiceHooks(*d->hooks, d->services);
  RegisterAdmissionHooks(*d->hooks, d->services);
  RegisterAccountHooks(*d->hooks, d->services, d->calendars);
  RegisterHouseholdHooks(*d->hooks);
  RegisterNumberHooks(*d->hooks, d->calendars);
  RegisterPaymentHooks(*d->hooks, d->payments, d->services);
  RegisterPaymentEffectHooks(*d->hooks, d->services);

  LoaderOptions opts;
  opts.workflow_schema_path = schemas_dir + "/workflow.schema.json";
  opts.event_schemas = &d->events;
  opts.hooks = d->hooks;
  opts.roles = Roles();
  opts.roles.insert(Actor::kSystemRole);  // the product's own commands (timer, notifier)
  opts.calendars = calendar_ids;
  auto workflows = WorkflowSet::LoadDir(WorkflowsDir(domain_dir), opts);
  if (!workflows.ok()) return workflows.status();
  d->workflows = std::move(workflows).value();

  std::string errors;
  for (const auto& [id, e] : d->catalogue->entries()) {
    if (!d->workflows.ById(e.workflow)) {
      errors += fmt::format(
          "\n  - catalogue entry '{}' at /workflow: no workflow '{}' in {}; "
          "add its definition or fix the id",
          id, e.workflow, WorkflowsDir(domain_dir));
    }
    if (!calendar_ids.count(e.calendar)) {
      errors += fmt::format(
          "\n  - catalogue entry '{}' at /calendar: unknown calendar '{}'; use one of {} (the "
          "files of {}), or add a calendar file",
          id, e.calendar, fmt::join(ids, ", "), CalendarsDir(domain_dir));
    }
  }
  // An event that freezes the catalogue entry its workflow names (an application's forwarding)
  // must name an entry of that workflow: else it would carry no term, and its clock no target.
  for (const auto& [wid, def] : d->workflows.all()) {
    for (const auto& [name, command] : def->commands) {
      for (const auto& e : command.events) {
        auto id = e.set.find("procedure_id");
        if (std::find(e.effects.begin(), e.effects.end(), "catalogue_entry") == e.effects.end() ||
            id == e.set.end() || !id->is_string() || id->get<std::string>().starts_with("$")) {
          continue;
        }
        const CatalogueEntry* entry = d->catalogue->Find(id->get<std::string>());
        if (entry == nullptr || entry->workflow != wid) {
          errors += fmt::format(
              "\n  - workflow '{}' at /commands/{}: '{}' freezes catalogue entry '{}', which is "
              "not an entry of this workflow; add {}/{}.json with \"workflow\": \"{}\" or fix "
              "the id",
              wid, name, e.type, id->get<std::string>(), CatalogueDir(domain_dir),
              id->get<std::string>(), wid);
        }
      }
    }
  }
  if (!errors.empty()) return Status::InvalidArgument("invalid procedure catalogue:" + errors);
  return d;
}

}  // namespace procedo::domain
