#include "projections/views/case_view.h"

#include <fmt/format.h>

#include <algorithm>

#include "domain/closures.h"
#include "engine/crypto/subject_id.h"
#include "projections/views/case_view_rendered.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

// Seed 002's four states: in corso, sospesa, riattivata, chiusa.
const char* Label(const std::string& state) {
  if (state == "in_progress") return "in corso";
  if (state == "suspended") return "sospesa";
  if (state == "resumed") return "riattivata";
  if (state == "closed") return "chiusa";
  return "";
}

void SetState(json& view, const std::string& state) {
  view["state"] = state;
  view["state_label"] = Label(state);
}

// Timeline rows carry the event's data, except values too big for a small row (a long
// procedure_data object): those stay in the log, one `GET /v1/streams/{id}/events` away.
constexpr size_t kMaxDetailBytes = 4096;

json Details(const json& data) {
  json out = json::object();
  for (const auto& [k, v] : data.items()) {
    if (v.dump().size() <= kMaxDetailBytes) out[k] = v;
  }
  return out;
}

}  // namespace

std::string CaseViewProjection::CalendarStreamOf(const json& data, const std::string& tenant) {
  auto cal = data.find("calendar");
  if (cal == data.end() || !cal->is_string()) return "";
  return domain::CalendarStream(tenant, cal->get<std::string>());
}

Status CaseViewProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr) return Status::Ok();  // counters, calendars: no view of their own

  json view;
  if (auto hit = written_.find(event.stream);
      hit != written_.end() && hit->second.version + 1 == event.version) {
    view = std::move(hit->second.view);
    written_.erase(hit);
  } else {
    auto existing = GetJson(rows, SummaryKey(event.stream));
    if (!existing.ok()) return existing.status();
    view = existing->value_or(json::object());
  }
  if (view.empty()) {
    view = {{"stream", event.stream},
            {"kind", pe->kind},
            {"workflow", def->id},
            {"tenant", event.tenant},
            {"created_at", FormatTime(event.time)},
            {"fields", json::object()}};
  }
  view["version"] = event.version;
  view["position"] = event.position;
  view["updated_at"] = FormatTime(event.time);
  auto to = def->event_to_state.find(event.type);
  if (to != def->event_to_state.end() && to->second) view["workflow_state"] = *to->second;

  if (pe->kind == "case") {
    if (Status s = ApplyCase(*pe, view, rows); !s.ok()) return s;
  } else {
    // The generic stream view: workflow state and the stream's short facts.
    view["state"] = view.value("workflow_state", "");
    json& fields = view["fields"];
    for (const auto& [k, v] : pe->data.items()) {
      // A data subject's id (an event that is about one person) is no fact to show.
      const bool subject_id =
          k == "subject" && v.is_string() && crypto::IsSubjectId(v.get_ref<const std::string&>());
      if (subject_id) continue;
      if (v.is_number() || v.is_boolean() ||
          (v.is_string() && v.get_ref<const std::string&>().size() <= 300)) {
        fields[k] = v;
      } else if (v.is_array() && v.dump().size() <= 1024) {
        fields[k] = v;
      } else if (v.is_object() && v.contains("name") && v["name"].is_string()) {
        fields[k + "_name"] = v["name"];
      }
    }
    if (fields.contains("forwarded_to")) view["forwarded_to"] = fields["forwarded_to"];
  }
  PutJson(rows, SummaryKey(event.stream), view);
  json entry = {{"version", event.version},       {"position", event.position},
                {"time", FormatTime(event.time)}, {"type", event.type},
                {"actor", pe->actor_id},          {"role", pe->actor_role},
                {"details", Details(pe->data)}};
  const std::string entry_text = entry.dump();
  rows.Put(TimelinePrefix(event.stream) + Pad20(event.version), entry_text);
  if (Status s = PutRendered(event, view, entry_text, rows); !s.ok()) return s;
  if (written_.size() >= kWrittenSummaries) written_.clear();
  written_[event.stream] = {event.version, std::move(view)};
  return Status::Ok();
}

Status CaseViewProjection::PutRendered(const Event& event, const json& view,
                                       const std::string& entry_text, ViewWriter& rows) {
  const std::string key = RenderedKey(event.stream);
  if (event.version > kMaxRenderedEvents) {
    rows.Delete(key);
    return Status::Ok();
  }
  std::string timeline = "[]";
  if (event.version > 1) {
    auto old = rows.Get(key);
    if (!old.ok()) return old.status();
    // No row for an older stream (views written before rendering existed): the read side
    // assembles its view; `procedo rebuild case_view` renders it.
    std::optional<std::string> before;
    if (old->has_value()) before = TimelineOfRenderedRow(**old);
    if (!before) {
      rows.Delete(key);
      return Status::Ok();
    }
    timeline = std::move(*before);
  }
  timeline.pop_back();
  if (timeline.size() > 1) timeline += ',';
  timeline += entry_text;
  timeline += ']';
  RenderedCaseView rendered{AccessOf(view), event.version, RenderCaseViewText(view, timeline)};
  rows.Put(key, EncodeRenderedView(rendered, rendered.body.size() - 1 - timeline.size()));
  return Status::Ok();
}

Status CaseViewProjection::ApplyCase(const ParsedEvent& pe, json& view, ViewWriter& rows) {
  const json& d = pe.data;
  const std::string& type = pe.event.type;
  const std::string time = FormatTime(pe.event.time);
  if (type == "case.started") {
    view["case_code"] = d.value("case_code", "");
    view["procedure"] = {{"id", d.value("procedure_id", "")},
                         {"name", d.value("procedure_name", "")},
                         {"catalogue_version", d.value("catalogue_version", 0)},
                         {"subject", d.value("subject", "")},
                         {"data", d.value("procedure_data", json::object())}};
    view["office"] = d.value("office", json::object());
    view["responsible"] = d.value("responsible", json::object());
    view["applicant"] = d.value("applicant", json::object());
    view["consent"] = d.value("consent", json::object());
    view["term"] = {{"target", d.value("term", "")},
                    {"text", d.value("term_text", "")},
                    {"calendar", d.value("calendar", "")}};
    // The term runs from the recorded instant of the start, not from a client-supplied time.
    view["started_at"] = time;
    view["suspensions"] = json::array();
    view["notes"] = json::array();
    view["notes_count"] = 0;
    SetState(view, "in_progress");
  } else if (type == "case.suspended" || type == "case.integration_requested") {
    json s = {{"kind", type == "case.suspended" ? "suspended" : "integration_requested"},
              {"reason", d.value("reason", "")},
              {"from", time},
              {"to", nullptr}};
    if (d.contains("documents")) s["documents"] = d["documents"];
    view["suspensions"].push_back(std::move(s));
    view["waiting_for"] = type == "case.integration_requested" ? "citizen" : "office";
    SetState(view, "suspended");
  } else if (type == "case.resumed" || type == "case.integration_received") {
    json& list = view["suspensions"];
    if (!list.empty() && list.back()["to"].is_null()) {
      list.back()["to"] = time;
      std::string why = type == "case.resumed" ? d.value("reason", "") : d.value("note", "");
      list.back()["resume_reason"] = why;
    }
    view.erase("waiting_for");
    SetState(view, "resumed");
  } else if (type == "case.note_added") {
    json note = {{"time", time}, {"author", d.value("author", "")}, {"text", d.value("note", "")}};
    rows.Put(NotesPrefix(pe.event.stream) + Pad20(pe.event.version), note.dump());
    json& recent = view["notes"];
    recent.push_back(std::move(note));
    while (recent.size() > kRecentNotes) recent.erase(recent.begin());
    view["notes_count"] = view.value("notes_count", int64_t{0}) + 1;
  } else if (type == "case.closed") {
    json& list = view["suspensions"];
    // Closing ends a suspension too: the term stops for good.
    if (!list.empty() && list.back()["to"].is_null()) list.back()["to"] = time;
    view.erase("waiting_for");
    view["closed"] = {{"outcome", d.value("outcome", "")},
                      {"reason", d.value("reason", "")},
                      {"at", time},
                      {"by", d.value("closed_by", "")}};
    SetState(view, "closed");
  }
  if (!view.contains("term")) return Status::Ok();  // events before a start: nothing to compute
  return ApplyTerm(pe, view, rows);
}

// The term is the workflow's SLA clock "term", folded by the one clock rule every reader of a
// clock uses (engine/workflow/sla_clock.h): the timer breaches at the deadline shown here.
Status CaseViewProjection::ApplyTerm(const ParsedEvent& pe, json& view, ViewWriter& rows) {
  const WorkflowDefinition* def = workflows_.ForStream(pe.event.stream);
  const bool has_term_clock =
      def != nullptr && std::any_of(def->sla_clocks.begin(), def->sla_clocks.end(),
                                    [](const SlaClock& c) { return c.id == kTermClock; });
  if (!has_term_clock) return Status::Ok();
  auto stored = rows.Get(ClocksKey(pe.event.stream));
  if (!stored.ok()) return stored.status();
  StreamClocks clocks;
  if (*stored) {
    auto decoded = StreamClocks::Decode(**stored);
    if (!decoded.ok()) return decoded.status();
    clocks = std::move(decoded).value();
  } else {
    clocks.workflow = def->id;
    clocks.tenant = pe.event.tenant;
  }
  const ClockRow* found = clocks.Find(kTermClock);
  const ClockRow before = found ? *found : ClockRow{};
  std::string problem;
  const std::string& tenant = pe.event.tenant;
  ClockCalendars lookup = [this, &tenant, &rows](const std::string& id, std::string* why) {
    auto cal = calendars_.Get(id, tenant, rows);
    if (cal.ok()) return *cal;
    *why = cal.status().message();
    return static_cast<const BusinessCalendar*>(nullptr);
  };
  FoldClockEvent(*def, clocks, pe.event.type, pe.event.time, pe.event.position, &pe.data, lookup);
  rows.Put(ClocksKey(pe.event.stream), clocks.Encode());
  const ClockRow& c = *clocks.Find(kTermClock);
  if (c.phase == ClockPhase::kIdle) return Status::Ok();

  view.erase("deadline_error");
  const BusinessCalendar* cal = c.calendar.empty() ? nullptr : lookup(c.calendar, &problem);
  if (cal == nullptr || !c.problem.empty()) {
    view["deadline_error"] = !c.problem.empty() ? c.problem : problem;
    return Status::Ok();
  }
  auto local = [cal](int64_t t) { return cal->FormatLocal(TimePoint(Micros(t))); };
  auto first = FirstDeadline(c, *cal);
  if (!first.ok()) {
    view["deadline_error"] = first.status().message();
    return Status::Ok();
  }
  view["expected_deadline"] = FormatTime(*first);
  // Time the case spent suspended (ended suspensions), measured the way the term is: wall time
  // for calendar-day terms, business time for the others.
  const auto term = TermOf(c.target);
  const bool calendar_days = term.ok() && term->kind == CalendarTerm::Kind::kCalendarDays;
  Micros suspended{0};
  for (const auto& s : view.value("suspensions", json::array())) {
    if (!s["to"].is_string()) continue;
    auto from = ParseRfc3339(s.value("from", ""));
    auto to = ParseRfc3339(s["to"].get<std::string>());
    if (!from.ok() || !to.ok()) continue;
    if (calendar_days) {
      suspended += *to - *from;
    } else if (auto b = cal->BusinessTimeBetween(*from, *to); b.ok()) {
      suspended += *b;
    }
  }
  view["suspended_total_seconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(suspended).count();
  if (c.phase == ClockPhase::kPaused) {
    // While suspended the term does not run, so there is no deadline; the view keeps what the
    // deadline was when the suspension began, and the new one appears on resumption.
    if (before.phase == ClockPhase::kRunning && before.deadline != 0) {
      view["deadline_before_suspension"] = FormatTime(TimePoint(Micros(before.deadline)));
      view["deadline_before_suspension_local"] = local(before.deadline);
    }
    view["deadline"] = nullptr;
    view["deadline_local"] = nullptr;
  } else if (c.phase == ClockPhase::kRunning || before.phase == ClockPhase::kRunning) {
    const int64_t deadline = c.phase == ClockPhase::kRunning ? c.deadline : before.deadline;
    view["deadline"] = FormatTime(TimePoint(Micros(deadline)));
    view["deadline_local"] = local(deadline);
    view.erase("deadline_before_suspension");
    view.erase("deadline_before_suspension_local");
  }
  if (c.phase == ClockPhase::kStopped && before.open()) {
    view["closed_within_term"] = MetAt(before, pe.event.time);
  }
  return Status::Ok();
}

json RenderCaseView(json summary, const std::vector<ViewRow>& timeline) {
  json list = json::array();
  for (const auto& row : timeline) {
    json e = json::parse(row.value, nullptr, false);
    if (!e.is_discarded()) list.push_back(std::move(e));
  }
  summary["timeline"] = std::move(list);
  return summary;
}

}  // namespace procedo::projections
