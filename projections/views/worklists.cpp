#include "projections/views/worklists.h"

namespace procedo::projections {

using nlohmann::json;

const std::vector<WorklistDef>& Worklists() {
  static const std::vector<WorklistDef> lists = {
      {"awaiting_validation",
       "voucher",
       "entered",
       {"validator", "operator_validator"},
       "",
       "heating-voucher applications entered by an operator, to be validated"},
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
       "applications forwarded to the Region, awaiting its decision"},
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
        "applicant_name", "technician", "technician_name", "forwarded_to", "site", "fuel"}) {
    if (f.fields.contains(k)) item[k] = f.fields[k];
  }
  return item;
}

}  // namespace

Status WorklistsProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (workflows_.ForStream(event.stream) == nullptr) return Status::Ok();
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;
  if (f.state != f.previous || !f.extra.contains("since")) {
    f.extra["since"] = FormatTime(event.time);
    f.extra["since_key"] = TimeKey(event.time);
  }

  std::string wanted;
  const WorklistDef* list = nullptr;
  for (const auto& w : Worklists()) {
    if (w.kind == pe->kind && w.state == f.state) list = &w;
  }
  std::string owner = event.tenant;
  if (list && !list->owner_field.empty()) owner = f.fields.value(list->owner_field, "");
  if (list && !owner.empty()) {
    // Entering the state is the order of the list: whoever waited longest comes first.
    wanted = Key({owner, list->name, f.extra["since_key"].get<std::string>(), event.stream});
  }
  std::string current = f.extra.value("key", "");
  if (!current.empty() && current != wanted) rows.Delete(current);
  if (!wanted.empty()) {
    PutJson(rows, wanted, Item(*pe, f, f.extra["since"].get<std::string>()));
    f.extra["key"] = wanted;
  } else {
    f.extra.erase("key");
  }
  return SaveFacts(*pe, f, rows);
}

}  // namespace procedo::projections
