// The Italian calendars of the product: data files under <domain_dir>/calendars (one <id>.json
// per calendar, validated against schemas/calendar.schema.json, and tenants.json with each
// tenant's patron saint), turned into engine BusinessCalendars.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/calendar/calendar.h"
#include "engine/base/status.h"

namespace procedo::domain {

struct CalendarDefinition {
  std::string id;
  std::string file;  // where it was loaded from, for messages
  std::string description;
  CalendarSpec spec;  // windows, zone, receipt rule and extra holidays; no national ones yet
  bool national_holidays = true;
  bool patron_saint = true;
};

// Where a tenant with no `time_zone` in tenants.json lives.
inline constexpr const char* kDefaultTimeZone = "Europe/Rome";

struct TenantCalendarInfo {
  std::string id;
  std::string name;
  std::optional<std::chrono::month_day> patron_saint;
  std::string patron_saint_name;
  std::string region;  // the Region's tenant id, where applications are forwarded; "" for none
  // Where the product's notices to the tenant go ({"name", "email", "phone"}; empty: nowhere).
  nlohmann::json office = nlohmann::json::object();
  // IANA zone of the tenant's local dates (the year of the numbers it issues).
  std::string time_zone = kDefaultTimeZone;
};

class CalendarCatalog {
 public:
  // Loads every <id>.json and tenants.json in `dir`. The first problem is an InvalidArgument
  // naming the file, the JSON path and what to write instead.
  static Result<CalendarCatalog> LoadDir(const std::string& dir);
  // The calendars under a domain directory (the `domain_dir` setting).
  static Result<CalendarCatalog> LoadDomain(const std::string& domain_dir);

  const CalendarDefinition* Find(std::string_view id) const;
  const TenantCalendarInfo* FindTenant(std::string_view id) const;
  std::vector<std::string> Ids() const;
  std::vector<TenantCalendarInfo> Tenants() const;

  // The calendar `id` for `tenant` (empty: no tenant, so no patron saint): national holidays for
  // every supported year, the tenant's patron saint, the file's extra holidays. No closures: fold
  // the calendar's events and add them (see domain/closures.h). NotFound names the known ids.
  Result<BusinessCalendar> Build(std::string_view id, std::string_view tenant) const;

 private:
  std::string dir_;
  std::map<std::string, CalendarDefinition, std::less<>> calendars_;
  std::map<std::string, TenantCalendarInfo, std::less<>> tenants_;
};

// The embedded schemas (the files under schemas/, compiled in so a deployment cannot drift).
const char* CalendarSchemaText();
const char* CalendarTenantsSchemaText();

// Parses "YYYY-MM-DD" into a valid date.
std::optional<std::chrono::year_month_day> ParseDate(std::string_view text);
std::string FormatDate(std::chrono::year_month_day date);

}  // namespace procedo::domain
