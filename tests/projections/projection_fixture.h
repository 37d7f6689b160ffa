// The real command handler over a real log (tests/domain/workflow_fixture.h), the domain's
// calendars, a real ViewStore and every projection of the product.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "domain/calendars.h"
#include "domain/workflow_fixture.h"
#include "engine/calendar/calendar.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "projections/views/projections.h"

namespace procedo::testing {

inline TimePoint At(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  if (!t.ok()) throw std::runtime_error(t.status().ToString());
  return *t;
}

struct ProjectionFixture : WorkflowFixture {
  std::unique_ptr<domain::CalendarCatalog> calendars;
  std::unique_ptr<projections::ProjectionSet> set;
  std::unique_ptr<ViewStore> views;

  ProjectionFixture() {
    auto c = domain::CalendarCatalog::LoadDomain(domain_dir);
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    calendars = std::make_unique<domain::CalendarCatalog>(std::move(c).value());
    set = std::make_unique<projections::ProjectionSet>(domain->workflows, *calendars);
    auto v = ViewStore::Open(logf.dir.sub("views"), set->Names());
    if (!v.ok()) throw std::runtime_error(v.status().ToString());
    views = std::move(v).value();
  }

  // Runs a command at a given instant of the log's clock.
  CommandOutcome MustAt(const std::string& when, const Actor& who, const std::string& stream,
                        const std::string& name,
                        nlohmann::json payload = nlohmann::json::object()) {
    logf.clock.Set(At(when));
    return Must(who, stream, name, std::move(payload));
  }

  void CatchUp() {
    ProjectionRunner runner(*logf.log, *views, set->All());
    Status s = runner.CatchUp();
    INFO(s.ToString());
    REQUIRE(s.ok());
  }

  nlohmann::json Row(const std::string& projection, const std::string& key) {
    auto r = views->Get(projection, key);
    REQUIRE(r.ok());
    INFO("no row in " << projection);
    REQUIRE(r->has_value());
    return nlohmann::json::parse(**r);
  }

  std::vector<ViewRow> Rows(const std::string& projection, const std::string& prefix) {
    auto r = views->Scan(projection, prefix, "", 1'000'000);
    REQUIRE(r.ok());
    return *r;
  }
};

inline nlohmann::json CasePayload(const std::string& procedure, const std::string& code) {
  return {{"procedure_id", procedure},
          {"case_code", code},
          {"subject", "Richiesta"},
          {"applicant", {{"name", "Mario Rossi"}, {"email", "mario@example.it"}}},
          {"consent", {{"sms", false}, {"email", true}}}};
}

inline nlohmann::json VoucherPayload() {
  return {{"applicant", {{"name", "Anna Bianchi"}, {"tax_code", "BNCNNA80A41A326X"}}},
          {"address", "Via Roma 1, Aosta"},
          {"household_members", 3},
          {"fuel", "gas"}};
}

inline nlohmann::json TicketPayload(const std::string& channel, const std::string& priority) {
  return {{"channel", channel}, {"priority", priority}, {"subject", "Non riesco a inviare"}};
}

}  // namespace procedo::testing
