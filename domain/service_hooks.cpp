// The enrolment's guards over the services catalogue (seed 003): step 1 chooses offered services
// at one of their sites, step 2 answers each chosen service's questions. The rules themselves
// are in service_checks.cpp, which the web form asks too.
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
