// The SLA dashboard (issue 5): every clock a workflow declares (engine/workflow.h SlaClock),
// folded from the workflow's own start/pause/resume/stop events, plus the SLA timer's
// `sla.warning` / `sla.breached` events when the log has them. Open clocks are indexed by the
// instant they reach their warning fraction, so "at risk or breached now" is a prefix scan that
// stops at the first clock not yet at risk; stopped clocks count as met or breached per month.
// The name sla_timer is left to the reactor that will append the breach events.
#pragma once

#include <string>

#include "domain/calendars.h"
#include "engine/projection.h"
#include "engine/workflow.h"
#include "projections/calendar_set.h"
#include "projections/rows.h"

namespace procedo::projections {

class SlaDashboardProjection final : public Projection {
 public:
  static constexpr const char* kName = "sla_dashboard";
  SlaDashboardProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars)
      : workflows_(workflows), calendars_(calendars) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // "o" 0x00 <tenant> 0x00 <warn at: µs, 20 digits> 0x00 <stream> 0x00 <clock>  ->  open clock.
  static std::string OpenPrefix(const std::string& tenant) { return Key({"o", tenant, ""}); }
  // "m" 0x00 <tenant> 0x00 <YYYY-MM>  ->  met / breached counts of the clocks stopped that month.
  static std::string MonthKey(const std::string& tenant, const std::string& month) {
    return Key({"m", tenant, month});
  }
  static std::string MonthPrefix(const std::string& tenant) { return Key({"m", tenant, ""}); }

 private:
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
};

}  // namespace procedo::projections
