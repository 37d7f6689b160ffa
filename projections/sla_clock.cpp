#include "projections/sla_clock.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/codec.h"

namespace procedo::projections {
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
