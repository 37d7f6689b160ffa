#include "projections/sla_dashboard.h"

#include <fmt/format.h>

#include <algorithm>

namespace procedo::projections {

using nlohmann::json;

namespace {

bool In(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::optional<SlaTarget> ChooseTarget(const SlaClock& c, const json& fields) {
  if (c.target) return c.target;
  if (c.target_by) {
    auto v = fields.find(*c.target_by);
    if (v == fields.end()) return std::nullopt;
    auto it = c.targets.find(Text(*v));
    if (it == c.targets.end()) return std::nullopt;
    return it->second;
  }
  if (c.target_field) {
    auto v = fields.find(*c.target_field);
    if (v == fields.end() || !v->is_string()) return std::nullopt;
    auto t = ParseSlaTarget(v->get<std::string>());
    if (t.ok()) return *t;
  }
  return std::nullopt;
}

std::optional<Micros> BusinessAmount(const SlaTarget& t) {
  if (t.unit == SlaTarget::Unit::kBusinessMinutes) return std::chrono::minutes(t.amount);
  if (t.unit == SlaTarget::Unit::kBusinessHours) return std::chrono::hours(t.amount);
  return std::nullopt;
}

Micros Fraction(Micros d, double f) {
  return Micros(static_cast<int64_t>(static_cast<double>(d.count()) * f));
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

Status SlaDashboardProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr || def->sla_clocks.empty()) return Status::Ok();
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;
  json& clocks = f.extra["clocks"];
  if (!clocks.is_object()) clocks = json::object();
  const TimePoint t = event.time;
  const std::string& type = event.type;

  // The SLA timer's own record of a warning or a breach wins over what the view computes.
  if (type == "sla.warning" || type == "sla.breached") {
    std::string id = pe->data.value("clock", "");
    if (clocks.contains(id) && clocks[id].value("status", "") != "stopped") {
      clocks[id][type == "sla.warning" ? "warned" : "breached"] = true;
      if (pe->data.contains("deadline")) clocks[id]["timer_deadline"] = pe->data["deadline"];
    }
  }

  for (const SlaClock& c : def->sla_clocks) {
    json& k = clocks[c.id];
    const std::string status = k.is_object() ? k.value("status", "") : "";
    const BusinessCalendar* cal = nullptr;
    if (k.is_object() && k.contains("calendar")) {
      auto got = calendars_.Get(k["calendar"], event.tenant, rows);
      if (!got.ok()) return got.status();
      cal = *got;
    }
    if ((status == "running" || status == "paused") && In(c.stop, type)) {
      const int64_t at = status == "paused" ? k["paused_at"].get<int64_t>() : Us(t);
      const bool met = !k.value("breached", false) && at <= k["deadline"].get<int64_t>();
      k["status"] = "stopped";
      k["stopped_at"] = FormatTime(Tp(at));
      k["met"] = met;
      auto month = LocalMonth(*cal, Tp(at));
      if (!month.ok()) return month.status();
      auto row = GetJson(rows, MonthKey(event.tenant, *month));
      if (!row.ok()) return row.status();
      json m = row->value_or(json::object());
      Count(m, "total", met);
      Count(m["by_clock"], c.id, met);
      json g = Groups(f.fields);
      if (g.contains("office_name")) Count(m["by_office"], Text(g["office_name"]), met);
      if (g.contains("procedure_id")) Count(m["by_procedure"], Text(g["procedure_id"]), met);
      if (pe->kind == "ticket" && g.contains("level")) Count(m["by_level"], Text(g["level"]), met);
      PutJson(rows, MonthKey(event.tenant, *month), m);
    } else if (status == "running" && In(c.pause, type)) {
      if (k.value("business", false)) {
        Result<Micros> seg = k.value("first_segment", true)
                                 ? cal->Elapsed(Tp(k["segment_start"]), t)
                                 : cal->BusinessTimeBetween(Tp(k["segment_start"]), t);
        if (!seg.ok()) return seg.status();
        k["elapsed"] = k["elapsed"].get<int64_t>() + seg->count();
      }
      k["status"] = "paused";
      k["paused_at"] = Us(t);
    } else if (status == "paused" && In(c.resume, type)) {
      const int64_t old_deadline = k["deadline"];
      if (k.value("business", false)) {
        const Micros target(k["target_us"].get<int64_t>());
        const Micros elapsed(k["elapsed"].get<int64_t>());
        if (elapsed < target) {
          auto d = cal->AddBusiness(t, target - elapsed);
          if (!d.ok()) return d.status();
          k["deadline"] = Us(*d);
        }
        const Micros warn_left = Fraction(target, c.warning_fraction) - elapsed;
        if (warn_left.count() > 0) {
          auto w = cal->AddBusiness(t, warn_left);
          if (!w.ok()) return w.status();
          k["warn_at"] = Us(*w);
        }
      } else {
        // Day terms move by the pause, measured as the term is: wall time or business time.
        const TimePoint paused = Tp(k["paused_at"]);
        TimePoint d = Tp(old_deadline);
        if (k.value("calendar_days", false)) {
          d += t - paused;
        } else {
          auto b = cal->BusinessTimeBetween(paused, t);
          if (!b.ok()) return b.status();
          auto moved = cal->AddBusiness(d, *b);
          if (!moved.ok()) return moved.status();
          d = *moved;
        }
        k["deadline"] = Us(d);
        k["warn_at"] = k["warn_at"].get<int64_t>() + (Us(d) - old_deadline);
      }
      k["status"] = "running";
      k["segment_start"] = Us(t);
      k["first_segment"] = false;
    }
    if (In(c.start, type)) {
      auto target = ChooseTarget(c, f.fields);
      std::string cal_id = c.calendar.value_or("");
      if (c.calendar_field) cal_id = f.fields.value(*c.calendar_field, "");
      if (!target || cal_id.empty()) {
        k = {{"status", "no_target"}};  // nothing to measure against: neither met nor breached
        continue;
      }
      auto got = calendars_.Get(cal_id, event.tenant, rows);
      if (!got.ok()) return got.status();
      cal = *got;
      json fresh = {{"status", "running"},    {"calendar", cal_id},
                    {"target", target->text}, {"started_at", FormatTime(t)},
                    {"segment_start", Us(t)}, {"first_segment", true},
                    {"elapsed", 0},           {"warned", false},
                    {"breached", false}};
      if (auto amount = BusinessAmount(*target)) {
        auto d = cal->AddBusiness(t, *amount);
        auto w = cal->AddBusiness(t, Fraction(*amount, c.warning_fraction));
        if (!d.ok()) return d.status();
        if (!w.ok()) return w.status();
        fresh["business"] = true;
        fresh["target_us"] = amount->count();
        fresh["deadline"] = Us(*d);
        fresh["warn_at"] = Us(*w);
      } else {
        const bool cd = target->unit == SlaTarget::Unit::kCalendarDays;
        auto d = cd ? cal->AddCalendarDays(t, static_cast<int>(target->amount))
                    : cal->AddBusinessDays(t, static_cast<int>(target->amount));
        if (!d.ok()) return d.status();
        fresh["calendar_days"] = cd;
        fresh["deadline"] = Us(*d);
        fresh["warn_at"] =
            Us(t) + static_cast<int64_t>(static_cast<double>(Us(*d) - Us(t)) * c.warning_fraction);
      }
      k = std::move(fresh);
    }
  }

  // The open index: one row per running clock, keyed by the instant it becomes at risk.
  for (auto& [id, k] : clocks.items()) {
    if (!k.is_object()) continue;
    std::string wanted;
    if (k.value("status", "") == "running") {
      wanted =
          Key({"o", event.tenant, Pad20(static_cast<uint64_t>(std::max<int64_t>(0, k["warn_at"]))),
               event.stream, id});
    }
    std::string current = k.value("key", "");
    if (!current.empty() && current != wanted) rows.Delete(current);
    if (wanted.empty()) {
      k.erase("key");
      continue;
    }
    json item = {{"stream", event.stream},
                 {"kind", pe->kind},
                 {"clock", id},
                 {"target", k["target"]},
                 {"started_at", k["started_at"]},
                 {"warn_at", FormatTime(Tp(k["warn_at"]))},
                 {"deadline", FormatTime(Tp(k["deadline"]))},
                 {"warned", k.value("warned", false)},
                 {"breached", k.value("breached", false)},
                 {"groups", Groups(f.fields)}};
    PutJson(rows, wanted, item);
    k["key"] = wanted;
  }
  return SaveFacts(*pe, f, rows);
}

}  // namespace procedo::projections
