// The sla_timer projection: folds the log into the state of every SLA clock and keeps two
// indexes next to it in the same column family, so a replay from position 0 rebuilds all of it:
//   s/<stream>                              the stream's clocks and the fields they read
//   d/<due, 8 bytes BE><stream>\0<clock>    one entry per running clock with something due;
//                                           its value is the event's data (sla_clock.h DueEntry)
//   x/<calendar>\0<tenant>\0<stream>\0<clock>  running clocks per calendar, for closures
//   k/<calendar>\0<tenant>                  the calendar's closures as its events left them
// Its own sla.warning / sla.breached events fold back in and mark the clock, which is how the
// timer knows what the log already holds.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "engine/workflow/workflow.h"
#include "engine/workflow/sla_clock.h"

namespace procedo::projections {

// Keys of the sla_timer view. Big-endian instants make RocksDB's order the time order, so the
// next deadline is the first key under kDuePrefix.
inline constexpr std::string_view kStreamPrefix = "s/";
inline constexpr std::string_view kDuePrefix = "d/";
inline constexpr std::string_view kCalendarPrefix = "x/";
inline constexpr std::string_view kClosuresPrefix = "k/";
std::string StreamKey(std::string_view stream);
std::string DueKey(int64_t due, std::string_view stream, std::string_view clock);
// Sorts before every entry due at `due` and after every earlier one: a scan's exclusive start.
std::string DueKeyBefore(int64_t due);
bool ParseDueKey(std::string_view key, int64_t* due, std::string* stream, std::string* clock);
std::string CalendarIndexPrefix(std::string_view calendar, std::string_view tenant);
std::string CalendarIndexKey(std::string_view calendar, std::string_view tenant,
                             std::string_view stream, std::string_view clock);
bool ParseCalendarIndexKey(std::string_view key, std::string* stream, std::string* clock);
std::string ClosuresKey(std::string_view calendar, std::string_view tenant);


inline constexpr const char* kSlaView = "sla_timer";
inline constexpr const char* kSlaWarning = kSlaWarningEvent;
inline constexpr const char* kSlaBreached = kSlaBreachedEvent;

class SlaProjection final : public Projection {
 public:
  // `on_due(due, position)` runs on the runner's thread whenever a clock enters the deadline
  // index at `due` (UTC microseconds) while applying the event at `position`. `views` is read
  // for the calendar index rows of earlier batches; all of them must outlive the projection.
  SlaProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars,
                const ViewStore& views, std::function<void(int64_t, uint64_t)> on_due = nullptr);
  ~SlaProjection() override;

  std::string name() const override { return kSlaView; }
  // Entries held in memory (calendars built, index writes not yet known to be committed); read
  // while no runner applies events.
  size_t MemoryEntries() const { return cache_.size() + index_changes_.size(); }
  Status Apply(const Event& event, ViewWriter& rows) override;

 private:
  struct CachedCalendar {
    std::unique_ptr<BusinessCalendar> calendar;  // null when it cannot be built
    std::string problem;
  };
  struct IndexChange {
    uint64_t position;
    std::string key;
    bool put;
  };

  Status ApplyWorkflowEvent(const Event& event, const WorkflowDefinition& def, ViewWriter& rows);
  Status ApplySlaEvent(const Event& event, ViewWriter& rows);
  Status ApplyClosureEvent(const Event& event, ViewWriter& rows);
  // Moves a clock's entries in the deadline and calendar indexes from `before` to its new state.
  void Reindex(const Event& event, const std::string& tenant, const std::string& stream,
               const ClockRow& before, ClockRow& after, ViewWriter& rows);
  // The calendars of `tenant` with their closures, as the clock fold looks them up.
  ClockCalendars CalendarsFor(const std::string& tenant, ViewWriter& rows);
  const CachedCalendar& Calendar(const std::string& id, const std::string& tenant,
                                 ViewWriter& rows);
  Result<std::vector<Closure>> LoadClosures(const std::string& calendar,
                                            const std::string& tenant, ViewWriter& rows);
  Result<std::vector<std::string>> RunningClocksOf(const std::string& calendar,
                                                   const std::string& tenant);
  void PruneIndexChanges(size_t above);

  const WorkflowSet& workflows_;
  const domain::CalendarCatalog& calendars_;
  const ViewStore& views_;
  std::function<void(int64_t, uint64_t)> on_due_;
  std::map<const WorkflowDefinition*, ClockPlan> plans_;
  std::map<std::string, CachedCalendar> cache_;  // "<calendar>\0<tenant>", closures applied
  // Calendar-index writes not yet known to be committed: a closure in the same batch as the
  // clocks it moves must see them, and a ViewWriter cannot scan.
  std::vector<IndexChange> index_changes_;
  static constexpr size_t kPruneAt = 4096;
  size_t prune_at_ = kPruneAt;
  uint64_t last_position_ = 0;
};

}  // namespace procedo::projections
