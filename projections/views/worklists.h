// Worklists: per tenant and role, the streams waiting for someone's action, oldest first, or
// soonest deadline first for a list ordered by an SLA clock (the Region's forwarded applications).
#pragma once

#include <string>
#include <vector>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"
#include "projections/views/rows.h"

namespace procedo::projections {

struct WorklistDef {
  std::string name;
  std::string kind;                // stream kind
  std::string state;               // the workflow state that puts a stream on the list
  std::vector<std::string> roles;  // who may read it (admins always may)
  // The list belongs to the tenant named by this field (the Region for forwarded applications),
  // or to the stream's own tenant when empty.
  std::string owner_field;
  std::string description;
  // Ordered by this SLA clock's deadline, soonest first, each item showing it; empty: by the
  // instant the stream entered the state, oldest first.
  std::string order_clock = {};
};
const std::vector<WorklistDef>& Worklists();
const WorklistDef* FindWorklist(const std::string& name);

class WorklistsProjection final : public Projection {
 public:
  static constexpr const char* kName = "worklists";
  WorklistsProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars)
      : workflows_(workflows), calendars_(calendars) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <tenant> 0x00 <worklist> 0x00 <since, or the deadline: µs, 20 digits> 0x00 <stream>  ->
  // item JSON.
  static std::string ListPrefix(const std::string& tenant, const std::string& worklist) {
    return Key({tenant, worklist, ""});
  }

 private:
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
};

}  // namespace procedo::projections
