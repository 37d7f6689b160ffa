// Service closures (seed 004: "sospensione per ferie"): announced and cancelled as events on the
// stream calendar-<tenant>-<calendar id>, folded into the closures a BusinessCalendar applies.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/clock.h"
#include "engine/base/status.h"
#include "engine/calendar/calendar.h"
#include "engine/log/log_store.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

inline constexpr const char* kClosureAnnounced = "calendar.closure_announced";
inline constexpr const char* kClosureCancelled = "calendar.closure_cancelled";

std::string CalendarStream(std::string_view tenant, std::string_view calendar_id);

// Seed 004: "sospeso per un massimo di 8 giorni non festivi all'anno ... con almeno 5 giorni di
// preavviso".
struct ClosurePolicy {
  int min_notice_days = 5;             // local dates: announced on day A, first closed day >= A+5
  int max_business_days_per_year = 8;  // business days closed per calendar year, all closures
};

// Ok, or InvalidArgument saying why `proposed` is refused: dates out of order, an id already in
// use, too little notice, or too many business days closed in a year. Business days are those of
// `calendar` without any closure (weekends and holidays inside a closure cost nothing); a day
// closed twice counts once.
Status CheckClosure(const BusinessCalendar& calendar, const std::vector<Closure>& existing,
                    const Closure& proposed, TimePoint announced_at,
                    const ClosurePolicy& policy = {});

// Why CheckClosure refuses a closure, with the figures it names, for those who explain it in
// other words (the console, in Italian).
struct ClosureRefusal {
  enum class Reason {
    kNoId,
    kNotARange,
    kLongerThanAYear,
    kIdInUse,
    kTooLittleNotice,
    kOverBudget
  };
  Reason reason = Reason::kNoId;
  // kTooLittleNotice
  std::chrono::year_month_day announced{}, first_day{}, first_possible{};
  int64_t notice_days = 0;
  int min_notice_days = 0;
  // kOverBudget
  int year = 0, added = 0, already = 0, max_per_year = 0;
};
// CheckClosure's rule: nullopt when the closure is allowed. A non-ok Status only when the
// announcement's local date cannot be known.
Result<std::optional<ClosureRefusal>> JudgeClosure(const BusinessCalendar& calendar,
                                                   const std::vector<Closure>& existing,
                                                   const Closure& proposed, TimePoint announced_at,
                                                   const ClosurePolicy& policy = {});

// The data of a closure event (both types carry the same fields).
nlohmann::json ClosureEventData(std::string_view calendar_id, std::string_view tenant,
                                const Closure& closure);

// Applies one event of the calendar's stream to its closures. An announcement replaces a closure
// with the same id; a cancellation of an unknown id changes nothing (the log is the fact, so a
// replay never fails on it). Other event types are ignored. Malformed data is InvalidArgument.
Status FoldClosureEvent(std::vector<Closure>* closures, std::string_view type,
                        const nlohmann::json& data);

// The closures of calendar-<tenant>-<calendar_id> as its events left them, and the stream's
// version they were read at (0: no stream yet).
struct StreamClosures {
  std::vector<Closure> closures;
  uint64_t version = 0;
};
Result<StreamClosures> ReadClosures(const LogStore& log, std::string_view calendar_id,
                                    std::string_view tenant);

// The calendar workflow (domain/workflows/calendar.json) announces and cancels closures; these
// are its commands, for the CLI and tests (over HTTP they are
// POST /v1/streams/calendar-<tenant>-<calendar>/commands/announce_closure|cancel_closure).
Command AnnounceClosureCommand(std::string_view calendar_id, std::string_view tenant,
                               const Closure& closure);
Command CancelClosureCommand(std::string_view calendar_id, std::string_view tenant,
                             std::string_view closure_id);

class CalendarCatalog;
// Registers the calendar workflow's reducer ("closures": the stream's closures in
// state.derived), guards ("calendar_stream_matches", "closure_allowed" with CheckClosure,
// "closure_exists") and effect ("cancelled_closure_dates").
void RegisterClosureHooks(HookRegistry& hooks, std::shared_ptr<const CalendarCatalog> calendars);
// The closures a calendar stream's state holds.
std::vector<Closure> ClosuresOf(const WorkflowState& state);

// Replaces the calendar's closures with `closures`.
Status ApplyClosures(BusinessCalendar* calendar, const std::vector<Closure>& closures);

}  // namespace procedo::domain
