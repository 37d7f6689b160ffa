#include "engine/workflow/sla_clock.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/log/codec.h"

namespace procedo {
namespace {

constexpr uint8_t kRowFormat = 1;

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}
void PutStr(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U64(uint64_t* v) {
    if (b_.size() < 8) return false;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = (*v << 8) | static_cast<uint8_t>(b_[i]);
    b_.remove_prefix(8);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u = 0;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n = 0;
    if (!U64(&n) || n > b_.size()) return false;
    s->assign(b_.substr(0, n));
    b_.remove_prefix(n);
    return true;
  }
  bool Byte(uint8_t* v) {
    if (b_.empty()) return false;
    *v = static_cast<uint8_t>(b_[0]);
    b_.remove_prefix(1);
    return true;
  }
  bool done() const { return b_.empty(); }

 private:
  std::string_view b_;
};

}  // namespace

Result<CalendarTerm> TermOf(const std::string& target) {
  auto t = ParseSlaTarget(target);
  if (!t.ok()) return t.status();
  CalendarTerm term;
  switch (t->unit) {
    case SlaTarget::Unit::kBusinessMinutes:
      term.business_time = std::chrono::minutes(t->amount);
      break;
    case SlaTarget::Unit::kBusinessHours:
      term.business_time = std::chrono::hours(t->amount);
      break;
    case SlaTarget::Unit::kBusinessDays:
      term.kind = CalendarTerm::Kind::kBusinessDays;
      term.days = static_cast<int>(t->amount);
      break;
    case SlaTarget::Unit::kCalendarDays:
      term.kind = CalendarTerm::Kind::kCalendarDays;
      term.days = static_cast<int>(t->amount);
      break;
  }
  return term;
}

namespace {

TimePoint At(int64_t micros) { return TimePoint(Micros(micros)); }
int64_t MicrosOf(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

const char* ClockPhaseName(ClockPhase phase) {
  switch (phase) {
    case ClockPhase::kIdle: return "idle";
    case ClockPhase::kRunning: return "running";
    case ClockPhase::kPaused: return "paused";
    case ClockPhase::kStopped: return "stopped";
  }
  return "?";
}

ClockRow* StreamClocks::Find(std::string_view id) {
  for (auto& c : clocks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::string StreamClocks::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kRowFormat));
  PutStr(&out, workflow);
  PutStr(&out, tenant);
  PutU64(&out, fields.size());
  for (const auto& [k, v] : fields) {
    PutStr(&out, k);
    PutStr(&out, v);
  }
  PutU64(&out, clocks.size());
  for (const auto& c : clocks) {
    PutStr(&out, c.id);
    out.push_back(static_cast<char>(c.phase));
    PutStr(&out, c.calendar);
    PutStr(&out, c.target);
    PutStr(&out, c.problem);
    PutU64(&out, c.start_position);
    for (int64_t v : {c.started_at, c.run_from, c.elapsed_before, c.deadline, c.warning_at,
                      c.budget, c.warn_budget, c.due}) {
      PutU64(&out, static_cast<uint64_t>(v));
    }
    out.push_back(static_cast<char>((c.warned ? 1 : 0) | (c.breached ? 2 : 0)));
  }
  return out;
}

Result<StreamClocks> StreamClocks::Decode(std::string_view bytes) {
  auto bad = [] { return Status::Corruption("an sla_timer stream row does not decode; rebuild "
                                            "the projection (`procedo rebuild sla_timer`)"); };
  Reader r(bytes);
  StreamClocks s;
  uint8_t format = 0;
  uint64_t n = 0;
  if (!r.Byte(&format) || format != kRowFormat || !r.Str(&s.workflow) || !r.Str(&s.tenant) ||
      !r.U64(&n) || n > bytes.size()) {
    return bad();
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!r.Str(&k) || !r.Str(&v)) return bad();
    s.fields.emplace(std::move(k), std::move(v));
  }
  if (!r.U64(&n) || n > bytes.size()) return bad();
  for (uint64_t i = 0; i < n; ++i) {
    ClockRow c;
    uint8_t phase = 0, flags = 0;
    if (!r.Str(&c.id) || !r.Byte(&phase) || phase > 3 || !r.Str(&c.calendar) ||
        !r.Str(&c.target) || !r.Str(&c.problem) || !r.U64(&c.start_position) ||
        !r.I64(&c.started_at) || !r.I64(&c.run_from) || !r.I64(&c.elapsed_before) ||
        !r.I64(&c.deadline) || !r.I64(&c.warning_at) || !r.I64(&c.budget) ||
        !r.I64(&c.warn_budget) || !r.I64(&c.due) || !r.Byte(&flags)) {
      return bad();
    }
    c.phase = static_cast<ClockPhase>(phase);
    c.warned = flags & 1;
    c.breached = flags & 2;
    s.clocks.push_back(std::move(c));
  }
  if (!r.done()) return bad();
  return s;
}

ClockChoice ChooseTarget(const SlaClock& decl, const std::map<std::string, std::string>& fields) {
  ClockChoice out;
  auto field = [&fields](const std::string& name) -> const std::string* {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  };
  if (decl.calendar) {
    out.calendar = *decl.calendar;
  } else if (decl.calendar_field) {
    if (const auto* v = field(*decl.calendar_field)) out.calendar = *v;
    else out.problem = fmt::format("the stream has no '{}' naming its calendar", *decl.calendar_field);
  } else {
    out.problem = "the clock declares no calendar";
  }
  if (decl.target) {
    out.target = decl.target->text;
  } else if (decl.target_by) {
    const auto* v = field(*decl.target_by);
    auto it = v ? decl.targets.find(*v) : decl.targets.end();
    if (it != decl.targets.end()) out.target = it->second.text;
    else if (out.problem.empty()) {
      out.problem = v ? fmt::format("no target for {} '{}'", *decl.target_by, *v)
                      : fmt::format("the stream has no '{}' choosing the target", *decl.target_by);
    }
  } else if (decl.target_field) {
    if (const auto* v = field(*decl.target_field)) {
      if (auto t = ParseSlaTarget(*v); t.ok()) out.target = *v;
      else if (out.problem.empty()) out.problem = t.status().message();
    } else if (out.problem.empty()) {
      out.problem = fmt::format("the stream has no '{}' giving the target", *decl.target_field);
    }
  } else if (out.problem.empty()) {
    out.problem = "the clock declares no target";
  }
  if (!out.problem.empty()) out.target.clear();
  return out;
}

Result<Micros> ElapsedAt(const ClockRow& c, const BusinessCalendar& cal, TimePoint t) {
  Micros total(c.elapsed_before);
  if (c.phase == ClockPhase::kRunning) {
    auto e = cal.Elapsed(At(c.run_from), t);
    if (!e.ok()) return e.status();
    total += *e;
  }
  return std::max(total, Micros(0));
}

Status ComputeDeadline(ClockRow& c, const BusinessCalendar& cal, double warning_fraction) {
  c.deadline = c.warning_at = c.budget = c.warn_budget = 0;
  if (c.phase != ClockPhase::kRunning || c.target.empty()) return Status::Ok();
  auto term = TermOf(c.target);
  if (!term.ok()) return term.status();
  const TimePoint start = At(c.started_at);
  auto first = cal.Add(start, *term);
  if (!first.ok()) return first.status();
  Micros budget = term->business_time;
  if (term->kind != CalendarTerm::Kind::kBusinessTime) {
    auto b = cal.Elapsed(start, *first);
    if (!b.ok()) return b.status();
    budget = *b;
  }
  c.budget = budget.count();
  const bool never_paused = c.run_from == c.started_at && c.elapsed_before == 0;
  const Micros before(c.elapsed_before);
  if (never_paused) {
    c.deadline = MicrosOf(*first);
  } else {
    auto d = cal.AddBusiness(At(c.run_from), std::max(Micros(0), budget - before));
    if (!d.ok()) return d.status();
    c.deadline = MicrosOf(*d);
  }
  if (warning_fraction > 0 && warning_fraction < 1) {
    const Micros warn(std::llround(static_cast<double>(budget.count()) * warning_fraction));
    c.warn_budget = warn.count();
    auto w = cal.AddBusiness(At(c.run_from), std::max(Micros(0), warn - before));
    if (!w.ok()) return w.status();
    // Never after the deadline: a calendar-day term ends at midnight, after the last window.
    c.warning_at = std::min(MicrosOf(*w), c.deadline);
  }
  return Status::Ok();
}

std::pair<DueKind, int64_t> NextDue(const ClockRow& c) {
  if (c.phase != ClockPhase::kRunning || c.deadline == 0) return {DueKind::kNone, 0};
  if (!c.warned && c.warning_at != 0 && !c.breached) return {DueKind::kWarning, c.warning_at};
  if (!c.breached) return {DueKind::kBreach, c.deadline + 1};
  return {DueKind::kNone, 0};
}

DueEntry DueEntryOf(const ClockRow& c, std::string_view tenant, DueKind kind) {
  DueEntry e;
  e.kind = kind;
  e.complete = true;
  e.tenant = tenant;
  e.clock = c.id;
  e.target = c.target;
  e.calendar = c.calendar;
  e.start_position = c.start_position;
  e.started_at = c.started_at;
  e.deadline = c.deadline;
  e.warning_at = c.warning_at;
  e.elapsed = kind == DueKind::kWarning ? std::max(c.warn_budget, c.elapsed_before)
                                        : std::max(c.budget, c.elapsed_before);
  return e;
}

std::string EncodeDueValue(const ClockRow& c, std::string_view tenant, DueKind kind) {
  const DueEntry e = DueEntryOf(c, tenant, kind);
  std::string out(1, static_cast<char>(kind));
  out.push_back(static_cast<char>(kRowFormat));
  for (std::string_view text : {std::string_view(e.tenant), std::string_view(e.clock),
                                std::string_view(e.target), std::string_view(e.calendar)}) {
    PutStr(&out, text);
  }
  PutU64(&out, e.start_position);
  for (int64_t v : {e.started_at, e.deadline, e.warning_at, e.elapsed}) {
    PutU64(&out, static_cast<uint64_t>(v));
  }
  return out;
}

Result<DueEntry> DecodeDueValue(std::string_view value) {
  DueEntry e;
  if (value.empty()) return Status::Corruption("an empty sla_timer deadline entry");
  e.kind = static_cast<DueKind>(value[0]);
  if (e.kind != DueKind::kWarning && e.kind != DueKind::kBreach) {
    return Status::Corruption("an sla_timer deadline entry of unknown kind");
  }
  if (value.size() == 1) return e;  // the older format: the kind alone
  Reader r(value.substr(1));
  uint8_t format = 0;
  if (!r.Byte(&format) || format != kRowFormat || !r.Str(&e.tenant) || !r.Str(&e.clock) ||
      !r.Str(&e.target) || !r.Str(&e.calendar) || !r.U64(&e.start_position) ||
      !r.I64(&e.started_at) || !r.I64(&e.deadline) || !r.I64(&e.warning_at) ||
      !r.I64(&e.elapsed) || !r.done()) {
    return Status::Corruption("an sla_timer deadline entry does not decode; rebuild the "
                              "projection (`procedo rebuild sla_timer`)");
  }
  e.complete = true;
  return e;
}

namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The text a target or calendar lookup compares: strings as they are, numbers and booleans as
// JSON writes them (level 2 -> "2").
std::optional<std::string> FieldText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

// Business time of the running segment (run_from to t) on the clock's calendar.
Micros SegmentElapsed(const ClockRow& c, TimePoint t, const ClockCalendars& calendars) {
  if (c.calendar.empty()) return Micros(0);
  std::string problem;
  const BusinessCalendar* cal = calendars(c.calendar, &problem);
  if (cal == nullptr) return Micros(0);
  auto e = cal->Elapsed(At(c.run_from), t);
  return e.ok() ? std::max(*e, Micros(0)) : Micros(0);
}

}  // namespace

ClockPlan ClockPlan::Of(const WorkflowDefinition& def) {
  ClockPlan plan;
  for (const auto& c : def.sla_clocks) {
    for (const auto* list : {&c.start, &c.pause, &c.resume, &c.stop}) {
      plan.types.insert(list->begin(), list->end());
    }
    for (const auto& f : {c.target_by, c.target_field, c.calendar_field}) {
      if (f && !Has(plan.fields, *f)) plan.fields.push_back(*f);
    }
  }
  return plan;
}

bool ClockPlan::Concerns(const WorkflowDefinition& def, const std::string& type,
                         std::string_view data) const {
  if (types.count(type)) return true;
  // Only types the workflow knows change its fields (the workflow's own fold ignores the rest);
  // most events name no clock field, so a substring test spares parsing their data.
  if (!def.event_to_state.count(type)) return false;
  for (const auto& f : fields) {
    if (data.find(fmt::format("\"{}\"", f)) != std::string_view::npos) return true;
  }
  return false;
}

void RecomputeClock(ClockRow& c, double warning_fraction, const ClockCalendars& calendars) {
  c.deadline = c.warning_at = 0;
  if (c.target.empty() || c.calendar.empty()) return;
  std::string problem;
  const BusinessCalendar* cal = calendars(c.calendar, &problem);
  if (cal == nullptr) {
    c.problem = problem;
    return;
  }
  if (Status st = ComputeDeadline(c, *cal, warning_fraction); !st.ok()) {
    c.problem = st.message();
    c.deadline = c.warning_at = 0;
    return;
  }
  c.problem.clear();
}

void FoldClockEvent(const WorkflowDefinition& def, StreamClocks& s, const std::string& type,
                    TimePoint t, uint64_t position, const nlohmann::json* data,
                    const ClockCalendars& calendars) {
  std::map<std::string, std::string> old_fields = s.fields;
  if (data != nullptr && data->is_object() && def.event_to_state.count(type)) {
    for (const SlaClock& decl : def.sla_clocks) {
      for (const auto& f : {decl.target_by, decl.target_field, decl.calendar_field}) {
        if (!f) continue;
        auto it = data->find(*f);
        if (it == data->end()) continue;
        if (auto text = FieldText(*it)) s.fields[*f] = *text;
        else s.fields.erase(*f);
      }
    }
  }
  const int64_t now = MicrosOf(t);
  for (const SlaClock& decl : def.sla_clocks) {
    ClockRow* c = s.Find(decl.id);
    if (c == nullptr) {
      ClockRow fresh;
      fresh.id = decl.id;
      s.clocks.push_back(std::move(fresh));
      c = &s.clocks.back();
    }
    bool recompute = false;
    if (Has(decl.start, type) && !c->open()) {
      // A new run: a reopened ticket gets a fresh resolution clock with its own events.
      ClockChoice choice = ChooseTarget(decl, s.fields);
      ClockRow fresh;
      fresh.id = decl.id;
      fresh.phase = ClockPhase::kRunning;
      fresh.calendar = choice.calendar;
      fresh.target = choice.target;
      fresh.problem = choice.problem;
      fresh.start_position = position;
      fresh.started_at = fresh.run_from = now;
      *c = std::move(fresh);
      recompute = true;
    } else if (Has(decl.stop, type) && c->open()) {
      if (c->phase == ClockPhase::kRunning) c->elapsed_before += SegmentElapsed(*c, t, calendars).count();
      c->phase = ClockPhase::kStopped;
    } else if (Has(decl.pause, type) && c->phase == ClockPhase::kRunning) {
      c->elapsed_before += SegmentElapsed(*c, t, calendars).count();
      c->phase = ClockPhase::kPaused;
      c->run_from = std::max(now, c->run_from);  // a resume never counts before this
      c->deadline = c->warning_at = 0;
    } else if (Has(decl.resume, type) && c->phase == ClockPhase::kPaused) {
      c->phase = ClockPhase::kRunning;
      c->run_from = std::max(now, c->run_from);  // time never runs backwards on a clock
      recompute = true;
    }
    // Everything else (pause of a paused clock, resume of a running one, any of them before a
    // start or after a stop) changes nothing: the log is the fact, the clock just ignores it.
    if (c->open() && s.fields != old_fields) {
      ClockChoice choice = ChooseTarget(decl, s.fields);
      if (choice.calendar != c->calendar && c->phase == ClockPhase::kRunning) {
        // Time counted so far stays counted on the calendar it ran on.
        c->elapsed_before += SegmentElapsed(*c, t, calendars).count();
        c->run_from = std::max(now, c->run_from);
      }
      if (choice.target != c->target || choice.calendar != c->calendar) recompute = true;
      c->target = choice.target;
      c->calendar = choice.calendar;
      c->problem = choice.problem;
    }
    if (recompute && c->phase == ClockPhase::kRunning) {
      RecomputeClock(*c, decl.warning_fraction, calendars);
    }
  }
}

bool MetAt(const ClockRow& c, TimePoint t) {
  if (c.breached) return false;
  if (c.phase == ClockPhase::kRunning) return c.deadline == 0 || MicrosOf(t) <= c.deadline;
  return c.budget == 0 || c.elapsed_before <= c.budget;
}

Result<TimePoint> FirstDeadline(const ClockRow& c, const BusinessCalendar& cal) {
  auto term = TermOf(c.target);
  if (!term.ok()) return term.status();
  return cal.Add(At(c.started_at), *term);
}

std::string ClockTenant(const SlaClock& decl, const std::string& stream_tenant,
                        const nlohmann::json& fields) {
  if (!decl.tenant_field || !fields.is_object()) return stream_tenant;
  auto it = fields.find(*decl.tenant_field);
  if (it == fields.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return stream_tenant;
  }
  return it->get<std::string>();
}

nlohmann::json ClockRowToJson(const ClockRow& c) {
  return {{"id", c.id},
          {"phase", ClockPhaseName(c.phase)},
          {"calendar", c.calendar},
          {"target", c.target},
          {"problem", c.problem},
          {"start_position", c.start_position},
          {"started_at", c.started_at},
          {"run_from", c.run_from},
          {"elapsed_before", c.elapsed_before},
          {"deadline", c.deadline},
          {"warning_at", c.warning_at},
          {"budget", c.budget},
          {"warn_budget", c.warn_budget},
          {"warned", c.warned},
          {"breached", c.breached}};
}

ClockRow ClockRowFromJson(const nlohmann::json& j) {
  ClockRow c;
  c.id = j.value("id", "");
  const std::string phase = j.value("phase", "idle");
  for (auto p : {ClockPhase::kIdle, ClockPhase::kRunning, ClockPhase::kPaused, ClockPhase::kStopped}) {
    if (phase == ClockPhaseName(p)) c.phase = p;
  }
  c.calendar = j.value("calendar", "");
  c.target = j.value("target", "");
  c.problem = j.value("problem", "");
  c.start_position = j.value("start_position", uint64_t{0});
  c.started_at = j.value("started_at", int64_t{0});
  c.run_from = j.value("run_from", int64_t{0});
  c.elapsed_before = j.value("elapsed_before", int64_t{0});
  c.deadline = j.value("deadline", int64_t{0});
  c.warning_at = j.value("warning_at", int64_t{0});
  c.budget = j.value("budget", int64_t{0});
  c.warn_budget = j.value("warn_budget", int64_t{0});
  c.warned = j.value("warned", false);
  c.breached = j.value("breached", false);
  return c;
}

}  // namespace procedo
