// Seed 003 beyond the two enrolment steps: per chosen service the Ente ranks, admits, puts on the
// waiting list or rejects an application, and an admission opens the beneficiary's account for
// the service (prepaid credit or periodic billing) in the same append. The places of a site are
// counted on two counter streams, so that an admission is one durable write like a submission.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/billing_periods.h"
#include "domain/calendars.h"
#include "domain/services.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

// The beneficiary's position in a service: "account-<tenant>-<n>-<service>" for the application
// "enrolment-<tenant>-<n>". Server-named ids only: no personal data in a stream id.
std::string AccountStream(std::string_view enrolment_stream, std::string_view service);
// Counters of a site's places for a service: taken minus released are the places in use.
std::string PlacesTakenStream(std::string_view tenant, std::string_view service,
                              std::string_view site);
std::string PlacesReleasedStream(std::string_view tenant, std::string_view service,
                                 std::string_view site);

// The billing month of a use: "2026-10" for "2026-10-14", and for an instant the month of its
// local day under `rule` (2026-01-31T23:30:00Z is "2026-02" in Rome); "" for neither.
std::string BillingPeriodOf(const std::string& date_or_instant, const BillingRule& rule);

// The ranking's score of an application for a service: one component per criterion of the
// catalogue's ranking (lower ranks first), and those components in the criteria's order.
struct RankingScore {
  nlohmann::json components = nlohmann::json::object();
  nlohmann::json key = nlohmann::json::array();
};
// What the ranking reads of the applicant's facts, opened when they are sealed: the declared
// ISEE (nullopt: undeclared or erased) and the residence (false: not declared, not resident or
// erased).
struct ApplicantFacts {
  std::optional<int64_t> isee_cents;
  bool resident = false;
};
RankingScore ScoreApplication(const Service& service, const nlohmann::json& enrolment_fields,
                              const ApplicantFacts& facts);

// Ranking, admission, waiting list, rejection and withdrawal on the enrolment.
void RegisterAdmissionHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services);
// The household workflow: members m1 (the applicant), m2, ... and no dependant declared twice.
void RegisterHouseholdHooks(HookRegistry& hooks);
// The account workflow: its ledger, movements, low-credit alert and invoices.
void RegisterAccountHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services,
                          std::shared_ptr<const CalendarCatalog> calendars);
// The account workflow's invoices (issue_invoice); RegisterAccountHooks registers them.
void RegisterInvoiceHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services,
                          std::shared_ptr<const CalendarCatalog> calendars);

}  // namespace procedo::domain
