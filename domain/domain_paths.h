#pragma once

#include <string>

namespace procedo::domain {

// Where the domain's data files are, under a domain directory (the `domain_dir` setting).
std::string CalendarsDir(const std::string& domain_dir);
std::string WorkflowsDir(const std::string& domain_dir);
std::string CatalogueDir(const std::string& domain_dir);
std::string ServicesDir(const std::string& domain_dir);  // on-demand services, per tenant
std::string PaymentsDir(const std::string& domain_dir);  // pagoPA settings, per tenant

}  // namespace procedo::domain
