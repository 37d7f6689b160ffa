#include "projections/views/sla_dashboard.h"

#include <fmt/format.h>

#include <algorithm>

namespace procedo::projections {

using nlohmann::json;

namespace {

std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// What the dashboard groups by: office and procedure for cases, level for tickets.
json Groups(const json& fields) {
  json g = json::object();
  for (const char* k : {"office_name", "procedure_id", "level", "channel", "priority"}) {
    if (fields.contains(k)) g[k] = fields[k];
  }
  return g;
}

void Count(json& node, const std::string& key, bool met) {
  json& n = node[key];
  if (!n.is_object()) n = {{"met", 0}, {"breached", 0}};
  n[met ? "met" : "breached"] = n[met ? "met" : "breached"].get<int64_t>() + 1;
}

}  // namespace

// A reminder (sollecito) or a complaint (reclamo) on a ticket: counted on its at-risk rows and in
// the month it arrived, in the local time of the calendar its first clock counts on.
Status SlaDashboardProjection::CountPush(const Event& event, const StreamClocks& clocks,
                                         StreamFacts& f, ViewWriter& rows) {
  const char* counter = event.type == "ticket.reminder_received"    ? "reminders"
                        : event.type == "ticket.complaint_received" ? "complaints"
                                                                    : nullptr;
  if (counter == nullptr || clocks.clocks.empty()) return Status::Ok();
  f.extra[counter] = f.extra.value(counter, int64_t{0}) + 1;
  auto cal = calendars_.Get(clocks.clocks.front().calendar, event.tenant, rows);
  if (!cal.ok()) return Status::Ok();  // a clock without a calendar has no month either
  auto month = LocalMonth(**cal, event.time);
  if (!month.ok()) return month.status();
  auto row = GetJson(rows, MonthKey(event.tenant, *month));
  if (!row.ok()) return row.status();
  json m = row->value_or(json::object());
  m[counter] = m.value(counter, int64_t{0}) + 1;
  PutJson(rows, MonthKey(event.tenant, *month), m);
  return Status::Ok();
}

Status SlaDashboardProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr || def->sla_clocks.empty()) return Status::Ok();
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;
  json& sla = f.extra["sla"];
  StreamClocks clocks = ClocksFromFacts(sla, def->id, event.tenant);
  json keys = sla.is_object() && sla.contains("keys") ? sla["keys"] : json::object();
  const TimePoint t = event.time;
  const StreamClocks before = clocks;
  FoldClocks(*def, *pe, clocks, calendars_, rows);
  if (Status s = CountPush(event, clocks, f, rows); !s.ok()) return s;

  for (const ClockRow& c : clocks.clocks) {
    const ClockRow* was = nullptr;
    for (const auto& b : before.clocks) {
      if (b.id == c.id) was = &b;
    }
    // The clock counts for the organisation accountable for it (the Region's term on an
    // application counts for the Region), which is not always the stream's owner.
    std::string tenant = event.tenant;
    for (const SlaClock& decl : def->sla_clocks) {
      if (decl.id == c.id) tenant = ClockTenant(decl, event.tenant, f.fields);
    }
    // A clock that stopped: met or breached, counted in the month it stopped. A clock with no
    // target (nothing to measure against) counts as neither.
    if (was != nullptr && was->open() && c.phase == ClockPhase::kStopped && was->budget > 0) {
      const bool met = MetAt(*was, t);
      auto cal = calendars_.Get(c.calendar, event.tenant, rows);
      if (!cal.ok()) return cal.status();
      auto month = LocalMonth(**cal, t);
      if (!month.ok()) return month.status();
      auto row = GetJson(rows, MonthKey(tenant, *month));
      if (!row.ok()) return row.status();
      json m = row->value_or(json::object());
      Count(m, "total", met);
      Count(m["by_clock"], c.id, met);
      json g = Groups(f.fields);
      if (g.contains("office_name")) Count(m["by_office"], Text(g["office_name"]), met);
      if (g.contains("procedure_id")) Count(m["by_procedure"], Text(g["procedure_id"]), met);
      if (pe->kind == "ticket" && g.contains("level")) Count(m["by_level"], Text(g["level"]), met);
      PutJson(rows, MonthKey(tenant, *month), m);
    }
    // The open index: one row per running clock with a deadline, keyed by the instant it
    // becomes at risk (its warning, else its deadline).
    std::string wanted;
    const int64_t at_risk = c.warning_at != 0 ? c.warning_at : c.deadline;
    if (c.phase == ClockPhase::kRunning && c.deadline != 0) {
      wanted = Key({"o", tenant, Pad20(static_cast<uint64_t>(std::max<int64_t>(0, at_risk))),
                    event.stream, c.id});
    }
    const std::string current = keys.value(c.id, "");
    if (!current.empty() && current != wanted) rows.Delete(current);
    if (wanted.empty()) {
      keys.erase(c.id);
      continue;
    }
    json item = {{"stream", event.stream},
                 {"kind", pe->kind},
                 {"clock", c.id},
                 {"target", c.target},
                 {"started_at", FormatTime(Tp(c.started_at))},
                 {"warn_at", FormatTime(Tp(at_risk))},
                 {"deadline", FormatTime(Tp(c.deadline))},
                 {"warned", c.warned},
                 {"breached", c.breached},
                 {"groups", Groups(f.fields)}};
    for (const char* k : {"reminders", "complaints"}) {
      if (f.extra.contains(k)) item[k] = f.extra[k];
    }
    PutJson(rows, wanted, item);
    keys[c.id] = wanted;
  }
  sla = ClocksToFacts(clocks, std::move(keys));
  f.extra.erase("clocks");  // the bookkeeping of views written before the shared clock rule
  return SaveFacts(*pe, f, rows);
}

}  // namespace procedo::projections
