#include "projections/views/requester_ticket.h"

#include <algorithm>

#include "domain/access.h"
#include "engine/workflow/sla_clock.h"
#include "projections/views/clock_facts.h"
#include "projections/views/rows.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

json Instant(int64_t us) {
  return us != 0 ? json(FormatTime(Tp(us))) : json(nullptr);
}

// What the page says of one clock: where it stands now, and what its last pause or stop left
// (the deadline it had then, the business time still allowed, whether it was met). `was` is the
// clock before the event at `t`.
void ShowClock(const ClockRow& was, const ClockRow& c, TimePoint t, json& out) {
  if (!out.is_object() || c.start_position != was.start_position) out = json::object();
  out["phase"] = ClockPhaseName(c.phase);
  out["target"] = c.target;
  out["started_at"] = Instant(c.started_at);
  out["breached"] = c.breached;
  if (c.problem.empty()) {
    out.erase("problem");
  } else {
    out["problem"] = c.problem;
  }
  if (c.phase == ClockPhase::kRunning) {
    out["deadline"] = Instant(c.deadline);
    for (const char* k : {"paused_at", "deadline_before_pause", "remaining_seconds"}) out.erase(k);
  } else if (c.phase == ClockPhase::kPaused && was.phase == ClockPhase::kRunning) {
    out["paused_at"] = FormatTime(t);
    out["deadline"] = nullptr;
    out["deadline_before_pause"] = Instant(was.deadline);
    if (c.budget > 0) {
      out["remaining_seconds"] = std::max<int64_t>(0, c.budget - c.elapsed_before) / 1'000'000;
    }
  } else if (c.phase == ClockPhase::kStopped && was.open()) {
    out["stopped_at"] = FormatTime(t);
    out["met"] = MetAt(was, t);
    if (was.phase == ClockPhase::kRunning) out["deadline"] = Instant(was.deadline);
  }
}

}  // namespace

Status RequesterTicketProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr || def->stream_kind != "ticket") return Status::Ok();

  auto existing = GetJson(rows, RowKey(event.stream));
  if (!existing.ok()) return existing.status();
  json view = existing->value_or(json::object());
  if (view.empty()) {
    view = {{"stream", event.stream},
            {"tenant", event.tenant},
            {"opened_at", FormatTime(event.time)},
            {"clocks", json::object()},
            {"messages", json::array()}};
  }
  view["version"] = event.version;
  const json& d = pe->data;
  if (auto to = def->event_to_state.find(event.type);
      to != def->event_to_state.end() && to->second) {
    view["state"] = *to->second;
  }
  for (const char* k : {"number", "subject", "channel", "priority", "technician_name"}) {
    if (auto it = d.find(k); it != d.end() && it->is_string()) view[k] = *it;
  }
  if (auto it = d.find("level"); it != d.end() && it->is_number_integer()) view["level"] = *it;
  if (const char* field = domain::RequesterText(event.type)) {
    auto it = d.find(field);
    if (it != d.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      view["messages"].push_back(
          {{"at", FormatTime(event.time)}, {"type", event.type}, {"text", *it}});
    }
  }

  StreamClocks clocks = ClocksFromFacts(view.value("sla", json::object()), def->id, event.tenant);
  const StreamClocks before = clocks;
  FoldClocks(*def, *pe, clocks, calendars_, rows);
  json& shown = view["clocks"];
  for (const ClockRow& c : clocks.clocks) {
    auto was = std::find_if(before.clocks.begin(), before.clocks.end(),
                            [&c](const ClockRow& b) { return b.id == c.id; });
    ShowClock(was != before.clocks.end() ? *was : ClockRow{}, c, event.time, shown[c.id]);
  }
  view["sla"] = ClocksToFacts(clocks);
  PutJson(rows, RowKey(event.stream), view);
  return Status::Ok();
}

}  // namespace procedo::projections
