#include "domain/domain_paths.h"

namespace procedo::domain {

std::string CalendarsDir(const std::string& d) { return d + "/calendars"; }
std::string WorkflowsDir(const std::string& d) { return d + "/workflows"; }
std::string CatalogueDir(const std::string& d) { return d + "/catalogue"; }
std::string ServicesDir(const std::string& d) { return d + "/services"; }
std::string PaymentsDir(const std::string& d) { return d + "/payments"; }

}  // namespace procedo::domain
