#include "projections/views/clock_facts.h"

namespace procedo::projections {

using nlohmann::json;

StreamClocks ClocksFromFacts(const json& sla, const std::string& workflow,
                             const std::string& tenant) {
  StreamClocks s;
  s.workflow = workflow;
  s.tenant = tenant;
  if (!sla.is_object()) return s;
  if (auto fields = sla.find("fields"); fields != sla.end() && fields->is_object()) {
    for (auto it = fields->begin(); it != fields->end(); ++it) {
      if (it->is_string()) s.fields[it.key()] = it->get<std::string>();
    }
  }
  if (auto list = sla.find("rows"); list != sla.end() && list->is_array()) {
    for (const auto& r : *list) s.clocks.push_back(ClockRowFromJson(r));
  }
  return s;
}

json ClocksToFacts(const StreamClocks& s, json keys) {
  json rows = json::array();
  for (const auto& c : s.clocks) rows.push_back(ClockRowToJson(c));
  return {{"fields", s.fields}, {"rows", std::move(rows)}, {"keys", std::move(keys)}};
}

void FoldClocks(const WorkflowDefinition& def, const ParsedEvent& pe, StreamClocks& clocks,
                CalendarSet& calendars, ViewWriter& rows) {
  const std::string& type = pe.event.type;
  if (type == kSlaWarningEvent || type == kSlaBreachedEvent) {
    ClockRow* c = clocks.Find(pe.data.value("clock", ""));
    if (c != nullptr && c->open() &&
        c->start_position == pe.data.value("start_position", uint64_t{0})) {
      (type == kSlaWarningEvent ? c->warned : c->breached) = true;
    }
    return;
  }
  const std::string& tenant = pe.event.tenant;
  ClockCalendars lookup = [&calendars, &tenant, &rows](const std::string& id, std::string* why) {
    auto cal = calendars.Get(id, tenant, rows);
    if (cal.ok()) return *cal;
    *why = cal.status().message();
    return static_cast<const BusinessCalendar*>(nullptr);
  };
  FoldClockEvent(def, clocks, type, pe.event.time, pe.event.position, &pe.data, lookup);
}

}  // namespace procedo::projections
