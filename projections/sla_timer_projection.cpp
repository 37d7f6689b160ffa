#include "projections/sla_timer_projection.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "domain/closures.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

int64_t MicrosOf(TimePoint t) { return t.time_since_epoch().count(); }

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The text a target or calendar lookup compares: strings as they are, numbers and booleans as
// JSON writes them (level 2 -> "2").
std::optional<std::string> FieldText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

std::string ClosuresJson(const std::vector<Closure>& closures) {
  json a = json::array();
  for (const auto& c : closures) {
    a.push_back({{"id", c.id},
                 {"from", domain::FormatDate(c.from)},
                 {"to", domain::FormatDate(c.to)},
                 {"reason", c.reason}});
  }
  return a.dump();
}

}  // namespace

SlaProjection::SlaProjection(const WorkflowSet& workflows,
                             const domain::CalendarCatalog& calendars, const ViewStore& views,
                             std::function<void(int64_t, uint64_t)> on_due)
    : workflows_(workflows), calendars_(calendars), views_(views), on_due_(std::move(on_due)) {
  for (const auto& [id, def] : workflows_.all()) {
    Plan plan;
    for (const auto& c : def->sla_clocks) {
      for (const auto* list : {&c.start, &c.pause, &c.resume, &c.stop}) {
        plan.types.insert(list->begin(), list->end());
      }
      for (const auto& f : {c.target_by, c.target_field, c.calendar_field}) {
        if (f && !Has(plan.fields, *f)) plan.fields.push_back(*f);
      }
    }
    plans_.emplace(def.get(), std::move(plan));
  }
}

SlaProjection::~SlaProjection() = default;

Status SlaProjection::Apply(const Event& event, ViewWriter& rows) {
  // A rebuild (drop + catch-up) replays from the start: what this object remembers of the
  // calendars and the index writes belongs to the old run.
  if (event.position <= last_position_) {
    cache_.clear();
    index_changes_.clear();
  }
  last_position_ = event.position;
  if (event.type == domain::kClosureAnnounced || event.type == domain::kClosureCancelled) {
    return ApplyClosureEvent(event, rows);
  }
  if (event.type == kSlaWarning || event.type == kSlaBreached) return ApplySlaEvent(event, rows);
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr || def->sla_clocks.empty()) return Status::Ok();
  return ApplyWorkflowEvent(event, *def, rows);
}

Status SlaProjection::ApplyWorkflowEvent(const Event& event, const WorkflowDefinition& def,
                                         ViewWriter& rows) {
  const Plan& plan = plans_.at(&def);
  // Only types the workflow knows change its fields (the workflow's own fold ignores the rest);
  // most events name no clock field, so a substring test spares parsing their data.
  const bool known = def.event_to_state.count(event.type) > 0;
  bool names_field = false;
  if (known) {
    for (const auto& f : plan.fields) {
      if (event.data.find(fmt::format("\"{}\"", f)) != std::string::npos) names_field = true;
    }
  }
  if (!plan.types.count(event.type) && !names_field) return Status::Ok();

  const std::string key = StreamKey(event.stream);
  auto stored = rows.Get(key);
  if (!stored.ok()) return stored.status();
  StreamClocks s;
  if (*stored) {
    auto d = StreamClocks::Decode(**stored);
    if (!d.ok()) return d.status();
    s = std::move(d).value();
  } else {
    s.workflow = def.id;
    s.tenant = event.tenant;
  }
  std::map<std::string, std::string> old_fields = s.fields;
  if (names_field) {
    json data = json::parse(event.data, nullptr, false);
    if (data.is_object()) {
      for (const auto& f : plan.fields) {
        auto it = data.find(f);
        if (it == data.end()) continue;
        if (auto text = FieldText(*it)) s.fields[f] = *text;
        else s.fields.erase(f);
      }
    }
  }
  const TimePoint t = event.time;
  const std::string& tenant = s.tenant;
  const StreamClocks before_all = s;
  for (const SlaClock& decl : def.sla_clocks) {
    ClockRow* c = s.Find(decl.id);
    if (c == nullptr) {
      ClockRow fresh;
      fresh.id = decl.id;
      s.clocks.push_back(std::move(fresh));
      c = &s.clocks.back();
    }
    const ClockRow before = *c;
    bool recompute = false;
    if (Has(decl.start, event.type) && !c->open()) {
      // A new run: a reopened ticket gets a fresh resolution clock with its own events.
      ClockChoice choice = ChooseTarget(decl, s.fields);
      ClockRow fresh;
      fresh.id = decl.id;
      fresh.phase = ClockPhase::kRunning;
      fresh.calendar = choice.calendar;
      fresh.target = choice.target;
      fresh.problem = choice.problem;
      fresh.start_position = event.position;
      fresh.started_at = fresh.run_from = MicrosOf(t);
      *c = std::move(fresh);
      recompute = true;
    } else if (Has(decl.stop, event.type) && c->open()) {
      if (c->phase == ClockPhase::kRunning) {
        auto e = SegmentElapsed(*c, tenant, t, rows);
        c->elapsed_before += e.ok() ? e->count() : 0;
      }
      c->phase = ClockPhase::kStopped;
    } else if (Has(decl.pause, event.type) && c->phase == ClockPhase::kRunning) {
      auto e = SegmentElapsed(*c, tenant, t, rows);
      c->elapsed_before += e.ok() ? e->count() : 0;
      c->phase = ClockPhase::kPaused;
      c->run_from = std::max(MicrosOf(t), c->run_from);  // a resume never counts before this
      c->deadline = c->warning_at = 0;
    } else if (Has(decl.resume, event.type) && c->phase == ClockPhase::kPaused) {
      c->phase = ClockPhase::kRunning;
      c->run_from = std::max(MicrosOf(t), c->run_from);  // time never runs backwards on a clock
      recompute = true;
    }
    // Everything else (pause of a paused clock, resume of a running one, any of them before a
    // start or after a stop) changes nothing: the log is the fact, the clock just ignores it.
    if (c->open() && s.fields != old_fields) {
      ClockChoice choice = ChooseTarget(decl, s.fields);
      if (choice.calendar != c->calendar && c->phase == ClockPhase::kRunning) {
        // Time counted so far stays counted on the calendar it ran on.
        auto e = SegmentElapsed(*c, tenant, t, rows);
        c->elapsed_before += e.ok() ? e->count() : 0;
        c->run_from = std::max(MicrosOf(t), c->run_from);
      }
      if (choice.target != c->target || choice.calendar != c->calendar) recompute = true;
      c->target = choice.target;
      c->calendar = choice.calendar;
      c->problem = choice.problem;
    }
    if (recompute && c->phase == ClockPhase::kRunning) {
      Recompute(*c, tenant, decl.warning_fraction, rows);
    }
    Reindex(event, tenant, event.stream, before, *c, rows);
  }
  if (!*stored || !(s == before_all)) rows.Put(key, s.Encode());
  return Status::Ok();
}

void SlaProjection::Recompute(ClockRow& c, const std::string& tenant, double warning_fraction,
                              ViewWriter& rows) {
  c.deadline = c.warning_at = 0;
  if (c.target.empty() || c.calendar.empty()) return;
  const CachedCalendar& cal = Calendar(c.calendar, tenant, rows);
  if (!cal.calendar) {
    c.problem = cal.problem;
    return;
  }
  if (Status st = ComputeDeadline(c, *cal.calendar, warning_fraction); !st.ok()) {
    c.problem = st.message();
    c.deadline = c.warning_at = 0;
    return;
  }
  c.problem.clear();
}

Result<Micros> SlaProjection::SegmentElapsed(const ClockRow& c, const std::string& tenant,
                                           TimePoint t, ViewWriter& rows) {
  if (c.calendar.empty()) return Micros(0);
  const CachedCalendar& cal = Calendar(c.calendar, tenant, rows);
  if (!cal.calendar) return Status::NotFound(cal.problem);
  auto e = cal.calendar->Elapsed(TimePoint(Micros(c.run_from)), t);
  if (!e.ok()) return e.status();
  return std::max(*e, Micros(0));
}

void SlaProjection::Reindex(const Event& event, const std::string& tenant,
                            const std::string& stream, const ClockRow& before, ClockRow& after,
                            ViewWriter& rows) {
  auto [kind, due] = NextDue(after);
  const DueKind was_kind = NextDue(before).first;
  if (before.due != due || (before.due != 0 && was_kind != kind)) {
    if (before.due != 0) rows.Delete(DueKey(before.due, stream, before.id));
    if (kind != DueKind::kNone) {
      rows.Put(DueKey(due, stream, after.id), EncodeDueValue(after, tenant, kind));
      if (on_due_) on_due_(due, event.position);
    }
  } else if (kind != DueKind::kNone) {
    // Same instant, other data (a new target with the same deadline, time counted on another
    // calendar): the entry carries the event's data, so it follows.
    std::string value = EncodeDueValue(after, tenant, kind);
    if (value != EncodeDueValue(before, tenant, was_kind)) {
      rows.Put(DueKey(due, stream, after.id), value);
    }
  }
  after.due = kind == DueKind::kNone ? 0 : due;
  const bool was = before.phase == ClockPhase::kRunning && !before.calendar.empty();
  const bool is = after.phase == ClockPhase::kRunning && !after.calendar.empty();
  if (was && (!is || before.calendar != after.calendar)) {
    std::string k = CalendarIndexKey(before.calendar, tenant, stream, before.id);
    rows.Delete(k);
    index_changes_.push_back({event.position, std::move(k), false});
  }
  if (is && (!was || before.calendar != after.calendar)) {
    std::string k = CalendarIndexKey(after.calendar, tenant, stream, after.id);
    rows.Put(k, "");
    index_changes_.push_back({event.position, std::move(k), true});
  }
  PruneIndexChanges(prune_at_);
}

void SlaProjection::PruneIndexChanges(size_t above) {
  if (index_changes_.size() <= above) return;
  const uint64_t committed = views_.Checkpoint(kSlaView);
  std::erase_if(index_changes_, [committed](const IndexChange& c) { return c.position <= committed; });
  // What is left belongs to the batch being applied: waiting for twice that before the next
  // look spares each of its events a checkpoint read, and keeps the list near one batch's size.
  prune_at_ = std::max<size_t>(kPruneAt, 2 * index_changes_.size());
}

Status SlaProjection::ApplySlaEvent(const Event& event, ViewWriter& rows) {
  json data = json::parse(event.data, nullptr, false);
  if (!data.is_object() || !data.contains("clock") || !data["clock"].is_string()) {
    return Status::Ok();  // not ours to judge: the schema check at append time is
  }
  const uint64_t run = data.value("start_position", uint64_t{0});
  const std::string key = StreamKey(event.stream);
  auto stored = rows.Get(key);
  if (!stored.ok()) return stored.status();
  if (!*stored) return Status::Ok();
  auto s = StreamClocks::Decode(**stored);
  if (!s.ok()) return s.status();
  ClockRow* c = s->Find(data["clock"].get<std::string>());
  if (c == nullptr || c->start_position != run || c->phase == ClockPhase::kIdle) {
    return Status::Ok();  // an earlier run's event, or a clock this definition no longer has
  }
  const ClockRow before = *c;
  if (event.type == kSlaWarning) c->warned = true;
  else c->breached = true;
  Reindex(event, s->tenant, event.stream, before, *c, rows);
  if (!(before == *c)) rows.Put(key, s->Encode());
  return Status::Ok();
}

const SlaProjection::CachedCalendar& SlaProjection::Calendar(const std::string& id,
                                                             const std::string& tenant,
                                                             ViewWriter& rows) {
  std::string key = id + '\0' + tenant;
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  CachedCalendar entry;
  auto built = calendars_.Build(id, tenant);
  if (!built.ok()) {
    entry.problem = built.status().message();
  } else {
    auto closures = LoadClosures(id, tenant, rows);
    Status st = closures.ok() ? domain::ApplyClosures(&built.value(), *closures) : closures.status();
    if (st.ok()) entry.calendar = std::make_unique<BusinessCalendar>(std::move(built).value());
    else entry.problem = st.message();
  }
  return cache_.emplace(std::move(key), std::move(entry)).first->second;
}

Result<std::vector<Closure>> SlaProjection::LoadClosures(const std::string& calendar,
                                                         const std::string& tenant,
                                                         ViewWriter& rows) {
  std::vector<Closure> out;
  auto stored = rows.Get(ClosuresKey(calendar, tenant));
  if (!stored.ok()) return stored.status();
  if (!*stored) return out;
  json a = json::parse(**stored, nullptr, false);
  if (!a.is_array()) return Status::Corruption("an sla_timer closures row does not parse");
  for (const auto& c : a) {
    auto from = domain::ParseDate(c.value("from", ""));
    auto to = domain::ParseDate(c.value("to", ""));
    if (!from || !to) return Status::Corruption("an sla_timer closures row has a bad date");
    out.push_back({c.value("id", ""), *from, *to, c.value("reason", "")});
  }
  return out;
}

Result<std::vector<std::string>> SlaProjection::RunningClocksOf(const std::string& calendar,
                                                                const std::string& tenant) {
  const std::string prefix = CalendarIndexPrefix(calendar, tenant);
  PruneIndexChanges(0);
  std::set<std::string> keys;
  std::string after;
  for (;;) {
    auto page = views_.Scan(kSlaView, prefix, after, 4096);
    if (!page.ok()) return page.status();
    for (auto& r : *page) keys.insert(r.key);
    if (page->size() < 4096) break;
    after = page->back().key;
  }
  for (const auto& c : index_changes_) {
    if (!c.key.starts_with(prefix)) continue;
    if (c.put) keys.insert(c.key);
    else keys.erase(c.key);
  }
  return std::vector<std::string>(keys.begin(), keys.end());
}

Status SlaProjection::ApplyClosureEvent(const Event& event, ViewWriter& rows) {
  json data = json::parse(event.data, nullptr, false);
  if (!data.is_object()) return Status::Ok();
  const std::string calendar = data.value("calendar", "");
  const std::string tenant = data.value("tenant", event.tenant);
  if (calendar.empty()) return Status::Ok();
  auto closures = LoadClosures(calendar, tenant, rows);
  if (!closures.ok()) return closures.status();
  // A malformed closure event changes nothing here, as in domain::FoldClosureEvent's replay rule.
  if (!domain::FoldClosureEvent(&closures.value(), event.type, data).ok()) return Status::Ok();
  rows.Put(ClosuresKey(calendar, tenant), ClosuresJson(*closures));
  auto it = cache_.find(calendar + '\0' + tenant);
  if (it != cache_.end()) cache_.erase(it);  // rebuilt on next use, closures included

  auto keys = RunningClocksOf(calendar, tenant);
  if (!keys.ok()) return keys.status();
  std::string stream, clock;
  for (const auto& k : *keys) {
    if (!ParseCalendarIndexKey(k, &stream, &clock)) continue;
    const std::string skey = StreamKey(stream);
    auto stored = rows.Get(skey);
    if (!stored.ok()) return stored.status();
    if (!*stored) continue;
    auto s = StreamClocks::Decode(**stored);
    if (!s.ok()) return s.status();
    ClockRow* c = s->Find(clock);
    const WorkflowDefinition* def = workflows_.ById(s->workflow);
    if (c == nullptr || def == nullptr || c->phase != ClockPhase::kRunning) continue;
    auto decl = std::find_if(def->sla_clocks.begin(), def->sla_clocks.end(),
                             [&](const SlaClock& d) { return d.id == clock; });
    if (decl == def->sla_clocks.end()) continue;
    const ClockRow before = *c;
    Recompute(*c, s->tenant, decl->warning_fraction, rows);
    Reindex(event, s->tenant, stream, before, *c, rows);
    if (!(before == *c)) rows.Put(skey, s->Encode());
  }
  return Status::Ok();
}

}  // namespace procedo::projections
