// What a ticket's requester reads on its page (seed 004), one row per ticket: its state, level
// and technician, its SLA clocks as the one clock rule folds them (engine/workflow/sla_clock.h),
// and the texts of its events the requester may read (domain/access.h, RequesterText). Kept by a
// fold so that the page reads one row and folds nothing per request.
#pragma once

#include <string>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"

namespace procedo::projections {

class RequesterTicketProjection final : public Projection {
 public:
  static constexpr const char* kName = "requester_ticket";
  RequesterTicketProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars)
      : workflows_(workflows), calendars_(calendars) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <stream> -> {stream, tenant, version, state, subject, channel, priority, level,
  // technician_name, opened_at, clocks: {<id>: {phase, target, deadline, ...}}, messages: [{at,
  // type, text}], sla: the clocks' fold}. Instants are UTC (RFC 3339).
  static std::string RowKey(const std::string& stream) { return stream; }

 private:
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
};

}  // namespace procedo::projections
