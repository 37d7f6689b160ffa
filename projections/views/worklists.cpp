#include "projections/views/worklists.h"

#include <algorithm>
#include <limits>

#include "projections/views/clock_facts.h"

namespace procedo::projections {

using nlohmann::json;

const std::vector<WorklistDef>& Worklists() {
  static const std::vector<WorklistDef> lists = {
      {"awaiting_validation",
       "voucher",
       "entered",
       {"validator", "operator_validator"},
       "",
       "heating-voucher applications entered, or corrected after a sending back, to be validated"},
      {"ready_to_forward",
       "voucher",
       "validated",
       {"validator", "operator_validator"},
       "",
       "validated applications not yet forwarded to the Region"},
      {"forwarded_to_region",
       "voucher",
       "forwarded",
       {"region"},
       "forwarded_to",
       "applications forwarded to the Region, awaiting its decision, soonest deadline of its term "
       "first",
       "region_term"},
      {"returned_by_region",
       "voucher",
       "returned",
       {"operator", "operator_validator", "validator"},
       "",
       "applications the Region sent back for corrections"},
      {"open_cases",
       "case",
       "open",
       {"operator", "operator_validator", "validator"},
       "",
       "cases whose term is running"},
      {"awaiting_citizen",
       "case",
       "awaiting_integration",
       {"operator", "operator_validator", "validator"},
       "",
       "cases suspended until the citizen sends the requested integration"},
      {"suspended_cases",
       "case",
       "suspended",
       {"operator", "operator_validator", "validator"},
       "",
       "cases suspended by the office"},
      {"tickets_to_take",
       "ticket",
       "open",
       {"helpdesk_l1"},
       "",
       "tickets waiting to be taken in charge"},
      {"tickets_level2", "ticket", "level2", {"helpdesk_l2"}, "", "tickets escalated to level 2"},
      {"enrolments_submitted",
       "enrolment",
       "submitted",
       {"operator", "operator_validator"},
       "",
       "submitted enrolments, for the rankings"},
  };
  return lists;
}

const WorklistDef* FindWorklist(const std::string& name) {
  for (const auto& w : Worklists()) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

namespace {

// What a worklist row shows and filters on; all short facts of the stream.
json Item(const ParsedEvent& pe, const StreamFacts& f, const std::string& since) {
  json item = {{"stream", pe.event.stream}, {"kind", pe.kind}, {"state", f.state},
               {"tenant", pe.event.tenant}, {"since", since},  {"version", pe.event.version}};
  for (const char* k :
       {"procedure_id", "procedure_name", "case_code", "priority", "channel", "level", "subject",
        "applicant_name", "technician", "technician_name", "forwarded_to", "site", "fuel",
        "round", "return_reason"}) {
    if (f.fields.contains(k)) item[k] = f.fields[k];
  }
  return item;
}

}  // namespace

Status WorklistsProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr) return Status::Ok();
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;
  if (f.state != f.previous || !f.extra.contains("since")) {
    f.extra["since"] = FormatTime(event.time);
    f.extra["since_key"] = TimeKey(event.time);
  }
  // Kinds with a list ordered by a clock keep their clocks, folded as the timer folds them, at
  // every event: the deadline of a list's item is the one the timer breaches after.
  const bool clocked = std::any_of(Worklists().begin(), Worklists().end(), [&](const auto& w) {
    return w.kind == pe->kind && !w.order_clock.empty();
  });
  StreamClocks clocks;
  if (clocked) {
    clocks = ClocksFromFacts(f.extra["sla"], def->id, event.tenant);
    FoldClocks(*def, *pe, clocks, calendars_, rows);
    f.extra["sla"] = ClocksToFacts(clocks);
  }

  std::string wanted;
  const WorklistDef* list = nullptr;
  for (const auto& w : Worklists()) {
    if (w.kind == pe->kind && w.state == f.state) list = &w;
  }
  std::string owner = event.tenant;
  if (list && !list->owner_field.empty()) owner = f.fields.value(list->owner_field, "");
  json item;
  if (list && !owner.empty()) {
    item = Item(*pe, f, f.extra["since"].get<std::string>());
    // Entering the state is the order of the list: whoever waited longest comes first. A list
    // ordered by a clock puts the soonest deadline first, and a clock without one (no target)
    // after every dated item.
    std::string order = f.extra["since_key"].get<std::string>();
    if (!list->order_clock.empty()) {
      const ClockRow* c = clocks.Find(list->order_clock);
      const bool dated = c != nullptr && c->phase == ClockPhase::kRunning && c->deadline != 0;
      order = Pad20(dated ? static_cast<uint64_t>(std::max<int64_t>(0, c->deadline))
                          : std::numeric_limits<uint64_t>::max());
      item["deadline"] = dated ? json(FormatTime(Tp(c->deadline))) : json(nullptr);
      item["term"] = c != nullptr ? json(c->target) : json(nullptr);
      if (dated) {
        auto cal = calendars_.Get(c->calendar, event.tenant, rows);
        if (cal.ok()) item["deadline_local"] = (*cal)->FormatLocal(Tp(c->deadline));
      }
    }
    wanted = Key({owner, list->name, order, event.stream});
  }
  std::string current = f.extra.value("key", "");
  if (!current.empty() && current != wanted) rows.Delete(current);
  if (!wanted.empty()) {
    PutJson(rows, wanted, item);
    f.extra["key"] = wanted;
  } else {
    f.extra.erase("key");
  }
  return SaveFacts(*pe, f, rows);
}

}  // namespace procedo::projections
