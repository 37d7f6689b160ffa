// The console's forms for the enrolment's two steps (seed 003: operators enter the paper
// applications). Their payloads hold what no generic form can type (a list of services, one
// free object of answers per service), so the form's schema comes from the Comune's services
// catalogue instead: a box per service and the sites as a choice in step 1, each chosen
// service's questions in step 2. Which commands these are is data: those with the catalogue's
// guards. The answers are still checked by the command path alone (domain/services.h).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "adapters/http/api.h"
#include "adapters/web/schema_form.h"
#include "engine/workflow/workflow.h"

namespace procedo::web {

// The schema the command's form is generated from, for a stream of `tenant` in `state` (a new
// stream: an empty state): the payload schema, or for the enrolment's steps the catalogue's.
nlohmann::json FormSchema(const http::Api& api, const CommandSpec& spec, const std::string& tenant,
                          const WorkflowState& state);

// The command's payload from the form's fields: PayloadOf, with step 1's boxes as the list of
// the chosen services' ids.
nlohmann::json FormPayload(const CommandSpec& spec, const nlohmann::json& schema,
                           const FormValues& values);

// A refusal of the enrolment's catalogue guards as Italian sentences at the fields they concern
// (the problems the domain's checks find, by service and question); empty for any other.
std::map<std::string, std::string> CatalogueErrors(const http::Api& api, const CommandSpec& spec,
                                                   const std::string& tenant,
                                                   const WorkflowState& state,
                                                   const nlohmann::json& schema,
                                                   const nlohmann::json& payload);

// A site's name in the tenant's services catalogue, else its id (a site withdrawn since).
std::string SiteName(const http::Api& api, const std::string& tenant, const std::string& site);

// The summary of an enrolment (seed 003: what the applicant is handed at the end): the chosen
// services and the site by their catalogue names, and once it is submitted the sequence number
// of each service, as {name, value} pairs; empty for a stream that is no enrolment.
std::vector<std::pair<std::string, std::string>> EnrolmentSummary(const http::Api& api,
                                                                  const WorkflowState& state);

}  // namespace procedo::web
