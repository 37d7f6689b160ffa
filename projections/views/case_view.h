// Seed 002, "La tua pratica on line": what a citizen sees of a case (office, responsible person,
// case code, procedure, term and deadline, suspensions with reasons, state, notes, timeline), and
// the same summary-plus-timeline for every other stream kind (applications, tickets, enrolments).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/sla_clock.h"
#include "engine/workflow/workflow.h"
#include "projections/views/calendar_set.h"

namespace procedo {
class LogStore;
}  // namespace procedo

namespace procedo::projections {

class CaseViewProjection final : public Projection {
 public:
  static constexpr const char* kName = "case_view";
  CaseViewProjection(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars)
      : workflows_(workflows), calendars_(calendars) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <stream>: the summary; <stream> 0x00 <version, 20 digits>: one timeline entry per event.
  static std::string SummaryKey(const std::string& stream) { return stream; }
  static std::string TimelinePrefix(const std::string& stream) { return stream + '\0'; }
  // <stream> 0x01: the whole view ready to send (case_view_rendered.h), for streams of up to
  // kMaxRenderedEvents events.
  static std::string RenderedKey(const std::string& stream) { return stream + '\x01'; }
  // <stream> 0x02: the stream's SLA clocks (the term's among them), as the clock fold keeps them.
  static std::string ClocksKey(const std::string& stream) { return stream + '\x02'; }
  // <stream> 0x03 <version, 20 digits>: one row per note of a case, in order. The summary keeps
  // only the latest kRecentNotes and the count, so that its size, and each event's cost, does
  // not grow with the case's length.
  static std::string NotesPrefix(const std::string& stream) { return stream + '\x03'; }
  static constexpr size_t kRecentNotes = 20;
  // The clock of a workflow that is a case's legal term.
  static constexpr const char* kTermClock = "term";
  // The calendar stream whose closures the `as_of` fold must include, or "" (no term).
  static std::string CalendarStreamOf(const nlohmann::json& first_event_data,
                                      const std::string& tenant);

 private:
  Status ApplyCase(const ParsedEvent& pe, nlohmann::json& view, ViewWriter& rows);
  Status ApplyTerm(const ParsedEvent& pe, nlohmann::json& view, ViewWriter& rows);
  Status PutRendered(const Event& event, const nlohmann::json& view, const std::string& entry_text,
                     ViewWriter& rows);
  const WorkflowSet& workflows_;
  CalendarSet calendars_;
  // The summaries the latest events wrote, by stream, each with the version it was written at:
  // each event of a long stream reads the summary its previous event wrote, and parsing it again
  // was most of the fold's cost. Taken only for the next version of the stream, so a batch that
  // was not committed (and is applied again) reads its rows instead.
  struct Written {
    uint64_t version = 0;
    nlohmann::json view;
  };
  std::unordered_map<std::string, Written> written_;
  static constexpr size_t kWrittenSummaries = 256;
};

// The summary and its timeline as the API answers them.
nlohmann::json RenderCaseView(nlohmann::json summary, const std::vector<ViewRow>& timeline);

// The view as it was at `until` (nullopt: the stream had no event yet), folded from the log by
// the projection's own code, so it matches what the live view showed at that instant.
Result<std::optional<nlohmann::json>> CaseViewAsOf(LogStore& log, const WorkflowSet& workflows,
                                                   const domain::CalendarCatalog& calendars,
                                                   const std::string& stream, TimePoint until);

}  // namespace procedo::projections
