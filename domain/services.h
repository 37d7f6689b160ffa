// The on-demand services catalogue ("servizi a domanda individuale", seed 003): per tenant, one
// data file domain/services/<tenant>.json with the services a Comune offers on request, their
// sites (plessi), accounting regime, tariffs and the questions step 2 of the enrolment asks.
// The enrolment's write path checks choices and answers against it here, and only here.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace procedo::domain {

struct ServiceQuestion {
  enum class Type { kText, kInteger, kDate, kBoolean, kChoice };
  std::string id;
  std::string label;  // Italian, as the form shows it
  Type type = Type::kText;
  bool required = false;
  std::optional<int64_t> min, max;   // integer questions only
  std::vector<std::string> choices;  // the values a choice question accepts
};

struct ServiceTariff {
  std::string id;
  bool per_use = true;  // false: per billing period
  std::string period;   // "month" or "school_year" for a tariff per period
  int64_t amount_cents = 0;
  std::vector<std::pair<int64_t, int64_t>> reductions;  // (ISEE up to, amount), lowest band first
  // The amount an ISEE pays: the first band it falls in, the full amount above the last band or
  // when no ISEE was declared.
  int64_t AmountFor(std::optional<int64_t> isee_cents) const;
};

// How the Ente ranks a service's applications (graduatoria) and its places per site.
struct ServiceRanking {
  std::vector<std::string> criteria;      // "isee_band", "residence", "sequence"; sequence last
  std::vector<int64_t> isee_bands;        // upper bounds, rising
  std::map<std::string, int64_t> places;  // per site of the service
  // Whether a place freed by a withdrawal goes to the first waiting application by itself
  // ("automatic", the default) or waits for an operator ("manual").
  bool automatic_waiting_list = true;
};

struct Service {
  std::string id;
  std::string name;
  bool prepaid = false;            // regime: prepaid, else periodic billing
  std::vector<std::string> sites;  // site ids
  std::vector<ServiceQuestion> questions;
  std::vector<ServiceTariff> tariffs;
  ServiceRanking ranking;
  std::optional<int64_t> low_credit_threshold_cents;  // prepaid only: the Ente's default
  // Paid with the application, before it is submitted (pagoPA): the sum over the services chosen.
  std::optional<int64_t> application_fee_cents;
  nlohmann::json source;  // the whole entry, as written
  const ServiceTariff* FindTariff(const std::string& id) const;
};

// Italian school years start on 1 September (the nursery's and the schools' year), unless the
// catalogue's "school_year": {"starts": "MM-DD"} says otherwise.
inline constexpr std::chrono::month_day kDefaultSchoolYearStart{std::chrono::September,
                                                                std::chrono::day{1}};
// The last day of the school year's activities (schools close in June, nurseries by its end),
// unless the catalogue's "school_year": {"ends": "MM-DD"} says otherwise: after it, until the
// next start, is the summer break.
inline constexpr std::chrono::month_day kDefaultSchoolYearEnd{std::chrono::June,
                                                              std::chrono::day{30}};

// One tenant's catalogue.
struct TenantServices {
  std::string tenant;
  uint32_t version = 1;
  // When the tenant's school year starts: the period of its "school_year" tariffs.
  std::chrono::month_day school_year_starts = kDefaultSchoolYearStart;
  std::chrono::month_day school_year_ends = kDefaultSchoolYearEnd;
  std::vector<Service> services;  // in the file's order: the form's order
  nlohmann::json sites;           // the file's "sites", as written
  nlohmann::json source;
  const Service* Find(const std::string& id) const;
};

// What is wrong with an enrolment's choice of services or with its step-2 details. Callers
// branch on `kind`; `message` says what was wrong and what to do, for people.
struct EnrolmentProblem {
  enum class Kind {
    kNoCatalogue,       // the tenant offers no services online
    kUnknownService,    // not in the tenant's catalogue
    kSiteNotOffered,    // the site is not one of a chosen service's sites
    kDetailsMissing,    // a chosen service has no details
    kServiceNotChosen,  // details for a service step 1 did not choose
    kMissingAnswer,     // a required question is unanswered
    kWrongType,         // an answer of the wrong type (or an impossible date)
    kOutOfRange,        // an integer outside the question's min/max
    kBadChoice,         // a value that is not one of the question's choices
    kUnknownField,      // an answer to a question the service does not ask
  };
  Kind kind;
  std::string service;  // the service concerned, when there is one
  std::string field;    // the question concerned, when there is one
  std::string message;
};

class ServiceCatalogue {
 public:
  // Every <tenant>.json under `dir`, validated against `schema_path` and then for what a schema
  // cannot say; `tenants` are the known tenant ids. A missing directory is an empty catalogue.
  // InvalidArgument listing every problem as "<file> at <path>: <problem>; <what to do>".
  static Result<ServiceCatalogue> LoadDir(const std::string& dir, const std::string& schema_path,
                                          const std::set<std::string>& tenants);
  const TenantServices* ForTenant(const std::string& tenant) const;
  const std::map<std::string, TenantServices>& tenants() const { return tenants_; }

 private:
  std::map<std::string, TenantServices> tenants_;
};

// Step 1: every service offered by the tenant (`catalogue` null: it offers none), and `site` one
// of each chosen service's sites.
std::vector<EnrolmentProblem> CheckServiceChoice(const TenantServices* catalogue,
                                                 const std::string& tenant,
                                                 const nlohmann::json& services,
                                                 const std::string& site);

// The one rule for "are these answers valid for this service": required questions answered,
// each answer of its question's type (and range, and among its choices), no unknown field.
std::vector<EnrolmentProblem> CheckServiceAnswers(const Service& service,
                                                  const nlohmann::json& answers);

// Step 2: details for exactly the services chosen in step 1, each checked by
// CheckServiceAnswers.
std::vector<EnrolmentProblem> CheckEnrolmentDetails(const TenantServices* catalogue,
                                                    const std::string& tenant,
                                                    const nlohmann::json& chosen,
                                                    const nlohmann::json& details);

// An id of the services catalogue (a service, site, tariff or question): [a-z][a-z0-9_]{0,39}.
bool IsCatalogueId(std::string_view id);

// The problems as one reason ("...; ..."), for a refusal.
std::string JoinProblems(const std::vector<EnrolmentProblem>& problems);

}  // namespace procedo::domain
