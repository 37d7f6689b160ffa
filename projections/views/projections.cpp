#include "projections/views/projections.h"

#include "projections/views/accounts.h"
#include "projections/views/applications.h"
#include "projections/views/audit_trail.h"
#include "projections/views/case_view.h"
#include "projections/views/helpdesk_kpis.h"
#include "projections/views/payments.h"
#include "projections/views/rankings.h"
#include "projections/views/requester_ticket.h"
#include "projections/views/sla_dashboard.h"
#include "projections/views/subjects.h"
#include "projections/views/ticket_queues.h"
#include "projections/views/worklists.h"

namespace procedo::projections {

ProjectionSet::ProjectionSet(const WorkflowSet& workflows,
                             const domain::CalendarCatalog& calendars) {
  all_.push_back(std::make_unique<CaseViewProjection>(workflows, calendars));
  all_.push_back(std::make_unique<WorklistsProjection>(workflows, calendars));
  all_.push_back(std::make_unique<TicketQueuesProjection>(workflows));
  all_.push_back(std::make_unique<SlaDashboardProjection>(workflows, calendars));
  all_.push_back(std::make_unique<HelpdeskKpisProjection>(workflows, calendars));
  all_.push_back(std::make_unique<AuditTrailProjection>());
  all_.push_back(std::make_unique<RequesterTicketProjection>(workflows, calendars));
  all_.push_back(std::make_unique<AccountsProjection>());
  all_.push_back(std::make_unique<RankingsProjection>());
  all_.push_back(std::make_unique<ApplicationsProjection>());
  all_.push_back(std::make_unique<PaymentsProjection>());
  all_.push_back(std::make_unique<SubjectsProjection>());
}

std::vector<std::string> ProjectionSet::Names() const {
  std::vector<std::string> out;
  for (const auto& p : all_) out.push_back(p->name());
  return out;
}

std::vector<Projection*> ProjectionSet::All() const {
  std::vector<Projection*> out;
  for (const auto& p : all_) out.push_back(p.get());
  return out;
}

Projection* ProjectionSet::Find(const std::string& name) const {
  for (const auto& p : all_) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

}  // namespace procedo::projections
