// The enrolment's guards over the services catalogue (seed 003): step 1 chooses offered services
// at one of their sites, step 2 answers each chosen service's questions. The rules themselves
// are in service_checks.cpp, for every caller.
#include "domain/procedures.h"
#include "domain/services.h"

namespace procedo::domain {

void RegisterServiceHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services) {
  hooks.AddGuard(
      "services_offered", [services](const DecideContext& c) -> std::optional<std::string> {
        const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
        auto problems =
            CheckServiceChoice(services->ForTenant(tenant), tenant,
                               c.command.payload.value("services", nlohmann::json::array()),
                               c.command.payload.value("site", ""));
        if (problems.empty()) return std::nullopt;
        return JoinProblems(problems);
      });

  // The application records the catalogue version it was made under, as a case records its
  // procedure's: the Comune may edit its services later, rankings read what the citizen saw.
  hooks.AddEffect("services_catalogue_version",
                  [services](const DecideContext& c, const std::string&, nlohmann::json& data) {
                    const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
                    if (const TenantServices* t = services->ForTenant(tenant)) {
                      data["services_version"] = t->version;
                    }
                  });

  hooks.AddGuard(
      "details_answer_questions", [services](const DecideContext& c) -> std::optional<std::string> {
        const std::string& tenant = c.state.tenant;
        auto problems =
            CheckEnrolmentDetails(services->ForTenant(tenant), tenant,
                                  c.state.fields.value("services", nlohmann::json::array()),
                                  c.command.payload.value("details", nlohmann::json::object()));
        if (problems.empty()) return std::nullopt;
        return JoinProblems(problems);
      });
}

}  // namespace procedo::domain
