#include "projections/views/helpdesk_kpis.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "engine/workflow/sla_clock.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

const SlaClock* FindClock(const WorkflowDefinition& def, const std::string& id) {
  for (const auto& c : def.sla_clocks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// The clock's target for the ticket, in business time, as the one clock rule chooses it;
// nullopt when it has none or it is counted in days (not a help-desk figure).
std::optional<Micros> Target(const SlaClock* c, const json& fields) {
  if (c == nullptr) return std::nullopt;
  std::map<std::string, std::string> by_name;
  for (const auto& [k, v] : fields.items()) by_name[k] = Text(v);
  const ClockChoice choice = ChooseTarget(*c, by_name);
  if (choice.target.empty()) return std::nullopt;
  auto term = TermOf(choice.target);
  if (!term.ok()) return std::nullopt;
  if (term->kind != CalendarTerm::Kind::kBusinessTime) return std::nullopt;
  return term->business_time;
}

json EmptyMonth() {
  json measure = {{"seconds", json::array()}, {"breached", 0}, {"dropped", 0}};
  return {{"opened", 0},
          {"resolved", 0},
          {"closed", 0},
          {"reopened", 0},
          {"reminders", 0},
          {"complaints", 0},
          {"take_in_charge", measure},
          {"resolution", measure}};
}

void Record(json& measure, Micros d, bool breached) {
  json& list = measure["seconds"];
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (list.size() >= HelpdeskKpisProjection::kMaxDurations) {
    measure["dropped"] = measure["dropped"].get<int64_t>() + 1;
  } else {
    // Sorted on insert: the row is the same whatever order equal months are folded in.
    auto pos = std::upper_bound(list.begin(), list.end(), secs,
                                [](int64_t v, const json& e) { return v < e.get<int64_t>(); });
    list.insert(pos, secs);
  }
  if (breached) measure["breached"] = measure["breached"].get<int64_t>() + 1;
}

json Summary(const json& measure) {
  const json& list = measure["seconds"];
  json out = {{"count", list.size()},
              {"breached", measure["breached"]},
              {"mean_seconds", nullptr},
              {"p90_seconds", nullptr}};
  if (!list.empty()) {
    int64_t sum = 0;
    for (const auto& v : list) sum += v.get<int64_t>();
    out["mean_seconds"] = static_cast<double>(sum) / static_cast<double>(list.size());
    const size_t rank = (9 * list.size() + 9) / 10;  // ceil(0.9 n), 1-based
    out["p90_seconds"] = list[rank - 1];
  }
  if (measure.value("dropped", 0) > 0) out["dropped"] = measure["dropped"];
  return out;
}

}  // namespace

Status HelpdeskKpisProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_.Observe(*pe, rows); !s.ok()) return s;
  if (pe->kind != "ticket") return Status::Ok();
  const WorkflowDefinition* def = workflows_.ForStream(event.stream);
  if (def == nullptr) return Status::Ok();
  const std::string& type = event.type;
  if (type != "ticket.opened" && type != "ticket.taken_in_charge" && type != "ticket.reopened" &&
      type != "ticket.resolved" && type != "ticket.closed" && type != "ticket.reminder_received" &&
      type != "ticket.complaint_received") {
    return Status::Ok();
  }
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;

  const SlaClock* tp = FindClock(*def, "take_in_charge");
  const SlaClock* tr = FindClock(*def, "resolution");
  const std::string cal_id = tp && tp->calendar ? *tp->calendar : "helpdesk";
  auto cal = calendars_.Get(cal_id, event.tenant, rows);
  if (!cal.ok()) return cal.status();
  auto month = LocalMonth(**cal, event.time);
  if (!month.ok()) return month.status();
  const std::string key = MonthKey(event.tenant, *month);
  auto row = GetJson(rows, key);
  if (!row.ok()) return row.status();
  json m = row->value_or(EmptyMonth());

  // Months folded before reminders and complaints were counted have no such field.
  auto bump = [&m](const char* k) { m[k] = m.value(k, int64_t{0}) + 1; };
  if (type == "ticket.opened") {
    bump("opened");
    f.extra["opened"] = Us(event.time);
  } else if (type == "ticket.taken_in_charge" && f.extra.contains("opened")) {
    auto d = (*cal)->Elapsed(Tp(f.extra["opened"]), event.time);
    if (!d.ok()) return d.status();
    auto target = Target(tp, f.fields);
    Record(m["take_in_charge"], *d, target && *d > *target);
    f.extra["resolution_start"] = Us(event.time);
  } else if (type == "ticket.reopened") {
    bump("reopened");
    f.extra["resolution_start"] = Us(event.time);
  } else if (type == "ticket.resolved") {
    bump("resolved");
    if (f.extra.contains("resolution_start")) {
      auto d = (*cal)->Elapsed(Tp(f.extra["resolution_start"]), event.time);
      if (!d.ok()) return d.status();
      auto target = Target(tr, f.fields);
      Record(m["resolution"], *d, target && *d > *target);
      f.extra.erase("resolution_start");
    }
  } else if (type == "ticket.closed") {
    bump("closed");
  } else if (type == "ticket.reminder_received") {
    bump("reminders");
  } else if (type == "ticket.complaint_received") {
    bump("complaints");
  }
  PutJson(rows, key, m);
  return SaveFacts(*pe, f, rows);
}

json RenderKpis(const json& row) {
  json tp = Summary(row["take_in_charge"]);
  json tr = Summary(row["resolution"]);
  const int64_t measured = tp["count"].get<int64_t>() + tr["count"].get<int64_t>();
  const int64_t breached = tp["breached"].get<int64_t>() + tr["breached"].get<int64_t>();
  const int64_t resolved = row.value("resolved", 0);
  json out = {{"opened", row["opened"]},
              {"resolved", row["resolved"]},
              {"closed", row["closed"]},
              {"reopened", row["reopened"]},
              {"reminders", row.value("reminders", 0)},
              {"complaints", row.value("complaints", 0)},
              {"take_in_charge", tp},
              {"resolution", tr},
              {"breach_rate", nullptr},
              {"reopen_rate", nullptr}};
  if (measured > 0)
    out["breach_rate"] = static_cast<double>(breached) / static_cast<double>(measured);
  if (resolved > 0) {
    out["reopen_rate"] =
        static_cast<double>(row.value("reopened", 0)) / static_cast<double>(resolved);
  }
  return out;
}

}  // namespace procedo::projections
