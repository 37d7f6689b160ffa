// The case view as it was at an instant, for auditors: the stream's events (and the closures of
// its calendar) recorded up to then, folded by the same projection code into rows in memory.
#include <algorithm>

#include "engine/log/log_store.h"
#include "projections/views/case_view.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

Result<std::vector<Event>> ReadUpTo(LogStore& log, const std::string& stream, TimePoint until) {
  std::vector<Event> out;
  for (uint64_t from = 1;;) {
    auto page = log.ReadStream(stream, from, Direction::kForward, 1000);
    if (!page.ok()) return page.status();
    for (auto& e : *page) {
      if (e.time > until) return out;
      out.push_back(std::move(e));
    }
    if (page->size() < 1000) return out;
    from = out.back().version + 1;
  }
}

}  // namespace

Result<std::optional<json>> CaseViewAsOf(LogStore& log, const WorkflowSet& workflows,
                                         const domain::CalendarCatalog& calendars,
                                         const std::string& stream, TimePoint until) {
  auto events = ReadUpTo(log, stream, until);
  if (!events.ok()) return events.status();
  if (events->empty()) return std::optional<json>();
  json first = json::parse(events->front().data, nullptr, false);
  std::string cal_stream = CaseViewProjection::CalendarStreamOf(
      first.is_object() ? first : json::object(), events->front().tenant);
  if (!cal_stream.empty()) {
    auto closures = ReadUpTo(log, cal_stream, until);
    if (!closures.ok()) return closures.status();
    for (auto& e : *closures) events->push_back(std::move(e));
    std::sort(events->begin(), events->end(),
              [](const Event& a, const Event& b) { return a.position < b.position; });
  }
  CaseViewProjection fold(workflows, calendars);
  MemoryRows rows;
  for (const auto& e : *events) {
    if (Status s = fold.Apply(e, rows); !s.ok()) return s;
  }
  auto summary = rows.Get(CaseViewProjection::SummaryKey(stream));
  if (!summary.ok()) return summary.status();
  if (!summary->has_value()) return std::optional<json>();
  return std::optional<json>(RenderCaseView(json::parse(**summary),
                                            rows.Scan(CaseViewProjection::TimelinePrefix(stream))));
}

}  // namespace procedo::projections
