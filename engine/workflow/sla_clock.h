// SLA clocks as data: the state of each clock a workflow declares on a stream, its byte form, the
// fold that moves it with the stream's events, and the pure arithmetic that turns a target, a
// calendar and the time already counted into a warning instant and a deadline. This is the one
// rule of an SLA clock: the timer (projections/reactors/sla_timer*), the SLA dashboard and the
// case view's term all fold their clocks here. No I/O: callers read and write their rows.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/calendar/calendar.h"
#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

#include <nlohmann/json.hpp>

namespace procedo {

enum class ClockPhase : uint8_t { kIdle = 0, kRunning = 1, kPaused = 2, kStopped = 3 };
const char* ClockPhaseName(ClockPhase phase);

// One clock of one stream. Instants are UTC microseconds since the epoch; 0 means "none".
struct ClockRow {
  std::string id;  // the declaration's id: "take_in_charge", "resolution", "term"
  ClockPhase phase = ClockPhase::kIdle;
  std::string calendar;  // the calendar id this run counts on
  std::string target;    // "30m", "6h", "3bd", "20cd"; empty when the stream names none (yet)
  std::string problem;   // why there is no deadline (unknown calendar, no target for a level)
  uint64_t start_position = 0;  // log position of the event that started this run
  int64_t started_at = 0;
  // The current running segment started here (the start, or the last resume). Business time of
  // earlier segments is in elapsed_before, so a pause never loses or double-counts time.
  int64_t run_from = 0;
  int64_t elapsed_before = 0;
  int64_t deadline = 0;    // the last instant still on time
  int64_t warning_at = 0;  // when the warning fraction of the budget is used up
  // Business time the target allows, and its warning fraction: what elapsed_seconds reports at
  // the deadline and at the warning, so the timer needs no calendar arithmetic of its own.
  int64_t budget = 0;
  int64_t warn_budget = 0;
  int64_t due = 0;         // the instant under which the clock sits in the deadline index
  bool warned = false;
  bool breached = false;

  bool open() const { return phase == ClockPhase::kRunning || phase == ClockPhase::kPaused; }
  bool operator==(const ClockRow&) const = default;
};

// Everything the timer keeps about a stream: its tenant, the few data fields its clocks read
// (channel, level, priority, term, calendar), and its clocks.
struct StreamClocks {
  std::string workflow;
  std::string tenant;
  std::map<std::string, std::string> fields;
  std::vector<ClockRow> clocks;

  ClockRow* Find(std::string_view id);
  std::string Encode() const;
  static Result<StreamClocks> Decode(std::string_view bytes);
  bool operator==(const StreamClocks&) const = default;
};

// What is due next for a clock: the warning, then the breach, then nothing.
enum class DueKind : char { kNone = 0, kWarning = 'w', kBreach = 'b' };

// The target and calendar a declaration picks from the stream's fields. Empty target or calendar
// with `problem` set when the fields do not name one.
struct ClockChoice {
  std::string target;
  std::string calendar;
  std::string problem;
};
ClockChoice ChooseTarget(const SlaClock& decl, const std::map<std::string, std::string>& fields);

// Business time counted on a running clock up to `t` (its whole run, every segment), never
// negative.
Result<Micros> ElapsedAt(const ClockRow& c, const BusinessCalendar& cal, TimePoint t);

// Sets deadline and warning_at of a running clock from its target and the time counted so far.
// A clock that never paused gets exactly the calendar's Add(start, term): calendar-day terms end
// at 23:59:59.999999 of their day, business-day terms at the day's closing. Once paused, a term
// is a budget of business time (business-day and calendar-day terms: the business time between
// the start and that first deadline), and the rest of it is added from the resume.
Status ComputeDeadline(ClockRow& c, const BusinessCalendar& cal, double warning_fraction);

// The instant the clock must be looked at next and why: the warning at warning_at, the breach one
// microsecond after the deadline (the deadline itself is still on time).
std::pair<DueKind, int64_t> NextDue(const ClockRow& c);

// The value of a deadline index entry: what the timer writes into the warning or breach event,
// so firing a group of clocks reads the index alone, not each clock's stream row. The projection
// writes key and value with the row in one batch, so they never disagree. Views written before
// this format hold the kind byte alone (`complete` false): the timer then reads the row.
struct DueEntry {
  DueKind kind = DueKind::kNone;
  bool complete = false;
  std::string tenant;
  std::string clock;
  std::string target;
  std::string calendar;
  uint64_t start_position = 0;
  int64_t started_at = 0;
  int64_t deadline = 0;
  int64_t warning_at = 0;
  // Business time counted at the due instant (the budget or its warning fraction, or more when
  // a shorter target replaced a longer one): the figure the SLA is judged by.
  int64_t elapsed = 0;
};
std::string EncodeDueValue(const ClockRow& c, std::string_view tenant, DueKind kind);
Result<DueEntry> DecodeDueValue(std::string_view value);
DueEntry DueEntryOf(const ClockRow& c, std::string_view tenant, DueKind kind);

// What a workflow's clocks listen to: the event types that start, pause, resume or stop them,
// and the state fields that choose their targets and calendars.
struct ClockPlan {
  std::set<std::string> types;
  std::vector<std::string> fields;
  static ClockPlan Of(const WorkflowDefinition& def);
  // Whether an event can move a clock: its type does, or its data (JSON text) names a field a
  // clock reads. Most events do neither, and their data need not be parsed.
  bool Concerns(const WorkflowDefinition& def, const std::string& type,
                std::string_view data) const;
};

// The calendar `id` of the stream's tenant with the closures in force, or null with `problem`
// saying why there is none.
using ClockCalendars =
    std::function<const BusinessCalendar*(const std::string& id, std::string* problem)>;

// A calendar term ("30m", "6h", "3bd", "20cd") as calendar arithmetic takes it.
Result<CalendarTerm> TermOf(const std::string& target);

// Folds one event of a stream into its clocks (`s.clocks` gains a row per declared clock): a
// start opens a new run, a pause banks the business time counted so far, a resume runs again
// with what is left of the budget, a stop ends the run; a change of the fields that choose a
// target or a calendar re-targets an open clock, keeping the time already counted. `data` is
// the event's parsed data, or null when ClockPlan::Concerns said it names no clock field.
void FoldClockEvent(const WorkflowDefinition& def, StreamClocks& s, const std::string& type,
                    TimePoint t, uint64_t position, const nlohmann::json* data,
                    const ClockCalendars& calendars);
// Derives the deadline and warning of a running clock again (its calendar's closures changed).
void RecomputeClock(ClockRow& c, double warning_fraction, const ClockCalendars& calendars);
// Whether a clock stopped at `t`, whose row just before the stop is `c`, met its target: it was
// not breached, and it stopped by its deadline (running) or within its budget (paused).
bool MetAt(const ClockRow& c, TimePoint t);
// The deadline the clock's run has if it never pauses: the target added to its start.
Result<TimePoint> FirstDeadline(const ClockRow& c, const BusinessCalendar& cal);
// The tenant accountable for a clock (SlaClock::tenant_field), from the stream's tenant and the
// shallow merge of its events' data; the stream's own tenant when the field names none.
std::string ClockTenant(const SlaClock& decl, const std::string& stream_tenant,
                        const nlohmann::json& fields);
// A clock's row as JSON, for views that keep their facts as JSON documents.
nlohmann::json ClockRowToJson(const ClockRow& c);
ClockRow ClockRowFromJson(const nlohmann::json& j);

}  // namespace procedo
