// A stream's SLA clocks as a projection keeps them in its own facts (StreamFacts::extra["sla"]),
// folded by the one clock rule (engine/workflow/sla_clock.h), so that every view showing a
// clock (the SLA dashboard, the Region's worklist) shows the deadline the timer fires at.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/views/view_store.h"
#include "engine/workflow/sla_clock.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"
#include "projections/views/rows.h"

namespace procedo::projections {

// The clocks kept under extra["sla"] ({"fields", "rows", ...}); none yet for a new stream.
StreamClocks ClocksFromFacts(const nlohmann::json& sla, const std::string& workflow,
                             const std::string& tenant);
// Their JSON form; `keys` is the projection's own bookkeeping kept beside them.
nlohmann::json ClocksToFacts(const StreamClocks& s,
                             nlohmann::json keys = nlohmann::json::object());

// Moves the clocks with one event of their stream: the clock rule for the workflow's events,
// the marks the SLA timer's own sla.warning / sla.breached records put on the run they name.
// Calendars come from `calendars`, with the closures folded before this event.
void FoldClocks(const WorkflowDefinition& def, const ParsedEvent& pe, StreamClocks& clocks,
                CalendarSet& calendars, ViewWriter& rows);

}  // namespace procedo::projections
