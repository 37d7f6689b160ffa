#include "projections/reactors/sla_timer_projection.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "domain/closures.h"
#include "engine/log/codec.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

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
  for (const auto& [id, def] : workflows_.all()) plans_.emplace(def.get(), ClockPlan::Of(*def));
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

ClockCalendars SlaProjection::CalendarsFor(const std::string& tenant, ViewWriter& rows) {
  return [this, &tenant, &rows](const std::string& id, std::string* problem) {
    const CachedCalendar& cal = Calendar(id, tenant, rows);
    if (!cal.calendar) *problem = cal.problem;
    return cal.calendar.get();
  };
}

Status SlaProjection::ApplyWorkflowEvent(const Event& event, const WorkflowDefinition& def,
                                         ViewWriter& rows) {
  const ClockPlan& plan = plans_.at(&def);
  if (!plan.Concerns(def, event.type, event.data)) return Status::Ok();

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
  json data;
  const json* fields = nullptr;
  if (!plan.fields.empty() && def.event_to_state.count(event.type)) {
    data = json::parse(event.data, nullptr, false);
    fields = &data;
  }
  const StreamClocks before_all = s;
  FoldClockEvent(def, s, event.type, event.time, event.position, fields,
                 CalendarsFor(s.tenant, rows));
  for (ClockRow& c : s.clocks) {
    ClockRow was;
    was.id = c.id;
    for (const auto& b : before_all.clocks) {
      if (b.id == c.id) was = b;
    }
    Reindex(event, s.tenant, event.stream, was, c, rows);
  }
  if (!*stored || !(s == before_all)) rows.Put(key, s.Encode());
  return Status::Ok();
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
    RecomputeClock(*c, decl->warning_fraction, CalendarsFor(s->tenant, rows));
    Reindex(event, s->tenant, stream, before, *c, rows);
    if (!(before == *c)) rows.Put(skey, s->Encode());
  }
  return Status::Ok();
}

std::string StreamKey(std::string_view stream) {
  std::string k(kStreamPrefix);
  k.append(stream);
  return k;
}

std::string DueKey(int64_t due, std::string_view stream, std::string_view clock) {
  std::string k(kDuePrefix);
  codec::PutFixed64BE(&k, static_cast<uint64_t>(due));
  k.append(stream);
  k.push_back('\0');
  k.append(clock);
  return k;
}

std::string DueKeyBefore(int64_t due) {
  std::string k(kDuePrefix);
  codec::PutFixed64BE(&k, static_cast<uint64_t>(due));
  return k;
}

bool ParseDueKey(std::string_view key, int64_t* due, std::string* stream, std::string* clock) {
  if (key.size() < kDuePrefix.size() + 8 || !key.starts_with(kDuePrefix)) return false;
  *due = static_cast<int64_t>(codec::DecodeFixed64BE(key.data() + kDuePrefix.size()));
  std::string_view rest = key.substr(kDuePrefix.size() + 8);
  auto nul = rest.find('\0');
  if (nul == std::string_view::npos) return false;
  stream->assign(rest.substr(0, nul));
  clock->assign(rest.substr(nul + 1));
  return true;
}

std::string CalendarIndexPrefix(std::string_view calendar, std::string_view tenant) {
  std::string k(kCalendarPrefix);
  k.append(calendar);
  k.push_back('\0');
  k.append(tenant);
  k.push_back('\0');
  return k;
}

std::string CalendarIndexKey(std::string_view calendar, std::string_view tenant,
                             std::string_view stream, std::string_view clock) {
  std::string k = CalendarIndexPrefix(calendar, tenant);
  k.append(stream);
  k.push_back('\0');
  k.append(clock);
  return k;
}

bool ParseCalendarIndexKey(std::string_view key, std::string* stream, std::string* clock) {
  if (!key.starts_with(kCalendarPrefix)) return false;
  std::string_view rest = key.substr(kCalendarPrefix.size());
  for (int skip = 0; skip < 2; ++skip) {
    auto nul = rest.find('\0');
    if (nul == std::string_view::npos) return false;
    rest.remove_prefix(nul + 1);
  }
  auto nul = rest.find('\0');
  if (nul == std::string_view::npos) return false;
  stream->assign(rest.substr(0, nul));
  clock->assign(rest.substr(nul + 1));
  return true;
}

std::string ClosuresKey(std::string_view calendar, std::string_view tenant) {
  std::string k(kClosuresPrefix);
  k.append(calendar);
  k.push_back('\0');
  k.append(tenant);
  return k;
}

}  // namespace procedo::projections
