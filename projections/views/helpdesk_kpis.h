// Seed 004's accounting of the help desk: per tenant and month, tickets opened, resolved, closed
// and reopened, and the exact distribution of take-in-charge (TP) and resolution (TR) times in
// business time on the help desk's calendar, with how many exceeded their target.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class HelpdeskKpisProjection final : public Projection {
 public:
  static constexpr const char* kName = "helpdesk_kpis";
  // A month keeps at most this many durations per measure (far above any help desk's volume);
  // more are counted in `dropped` so that a figure computed on a partial list says so.
  static constexpr size_t kMaxDurations = 100'000;

  HelpdeskKpisProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars)
      : workflows_(workflows), calendars_(calendars) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <tenant> 0x00 <YYYY-MM>  ->  counts and the sorted business-second durations of the month.
  static std::string MonthKey(const std::string& tenant, const std::string& month) {
    return Key({tenant, month});
  }

 private:
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
};

// The figures the API shows for one month's row: counts, mean and 90th percentile (nearest rank:
// the ceil(0.9 n)-th smallest) of each duration list, breach rate, reopen rate.
nlohmann::json RenderKpis(const nlohmann::json& month_row);

}  // namespace procedo::projections
