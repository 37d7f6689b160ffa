// The SLA dashboard: every clock a workflow declares, folded by the one clock rule
// (engine/workflow/sla_clock.h) that the SLA timer and the case view use too, plus the timer's
// `sla.warning` / `sla.breached` records. Open clocks are indexed by the instant they reach
// their warning fraction, so "at risk or breached now" is a prefix scan that stops at the first
// clock not yet at risk; stopped clocks count as met or breached in the month they stopped.
#pragma once

#include <string>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/sla_clock.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"
#include "projections/views/clock_facts.h"
#include "projections/views/rows.h"

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
  // "m" 0x00 <tenant> 0x00 <YYYY-MM>  ->  met / breached counts of the clocks stopped that month,
  // and the tickets' reminders and complaints that arrived in it.
  static std::string MonthKey(const std::string& tenant, const std::string& month) {
    return Key({"m", tenant, month});
  }
  static std::string MonthPrefix(const std::string& tenant) { return Key({"m", tenant, ""}); }

 private:
  Status CountPush(const Event& event, const StreamClocks& clocks, StreamFacts& f,
                   ViewWriter& rows);
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
};

}  // namespace procedo::projections
