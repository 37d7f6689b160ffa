// The times a ticket's messages promise: its SLA clocks folded by the one clock rule
// (engine/workflow/sla_clock.h) with the closures announced before the event, so the
// acknowledgement names the deadline the SLA timer will fire at, not a second estimate of it.
#include <fmt/format.h>

#include <algorithm>

#include "domain/closures.h"
#include "domain/italian_text.h"
#include "projections/reactors/notifier.h"
#include "projections/views/clock_facts.h"
#include "projections/views/ticket_queues.h"

namespace procedo::projections {

Status Notifier::FoldTicketClocks(const Event& e, StoredFacts& sf, ViewWriter& rows) {
  if (!calendars_) return Status::Ok();
  const WorkflowDefinition* def = options_.workflows->ForStream(e.stream);
  if (def == nullptr || def->stream_kind != "ticket" || def->sla_clocks.empty()) {
    return Status::Ok();
  }
  auto pe = Parse(e);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_->Observe(*pe, rows); !s.ok()) return s;
  StreamClocks clocks = ClocksFromFacts(sf.sla, def->id, e.tenant);
  FoldClocks(*def, *pe, clocks, *calendars_, rows);
  sf.sla = ClocksToFacts(clocks);

  // The open-ticket index the closure notices read, by the help desk queues' own rule.
  if (auto to = def->event_to_state.find(e.type); to != def->event_to_state.end() && to->second) {
    const std::string key = fmt::format("{}{}/{}", kOpenTicketPrefix, e.tenant, e.stream);
    if (TicketQueuesProjection::Open(*to->second)) {
      if (open_tickets_[e.tenant].insert(e.stream).second) rows.Put(key, "");
    } else if (open_tickets_[e.tenant].erase(e.stream) > 0) {
      rows.Delete(key);
    }
  }

  CaseFacts& f = sf.facts;
  f.take_in_charge_by.clear();
  f.resolution_by.clear();
  f.resolution_target.clear();
  for (const SlaClock& decl : def->sla_clocks) {
    const ClockRow* c = clocks.Find(decl.id);
    std::string by;
    if (c != nullptr && c->phase == ClockPhase::kRunning && c->deadline > 0) {
      auto cal = calendars_->Get(c->calendar, e.tenant, rows);
      // No calendar, no promise: the message says nothing rather than a wrong time.
      if (cal.ok()) by = domain::ItalianDateTime((*cal)->FormatLocal(Tp(c->deadline)));
    }
    if (decl.id == "take_in_charge") f.take_in_charge_by = by;
    if (decl.id == "resolution") {
      f.resolution_by = by;
      // Before it starts, the target the ticket's channel, level and priority choose.
      f.resolution_target = ChooseTarget(decl, clocks.fields).target;
    }
  }
  return Status::Ok();
}

Status Notifier::FoldClosure(const Event& e, const nlohmann::json& data, ViewWriter& rows) {
  auto pe = Parse(e);
  if (!pe.ok()) return pe.status();
  if (Status s = calendars_->Observe(*pe, rows); !s.ok()) return s;
  if (e.type != domain::kClosureAnnounced || e.position < notify_from_) return Status::Ok();
  const std::string tenant = data.value("tenant", "");
  const std::string calendar = data.value("calendar", "");
  auto open = open_tickets_.find(tenant);
  if (open == open_tickets_.end()) return Status::Ok();
  for (const std::string& stream : open->second) {
    auto stored = rows.Get(FactsKey(stream));
    if (!stored.ok()) return stored.status();
    if (!*stored) continue;
    auto sf = DecodeFacts(**stored);
    if (!sf.ok()) return sf.status();
    // Only a ticket whose clocks count on the closed calendar is delayed by the closure.
    const StreamClocks clocks = ClocksFromFacts(sf->sla, "", tenant);
    const bool counts = std::any_of(clocks.clocks.begin(), clocks.clocks.end(),
                                    [&](const ClockRow& c) { return c.calendar == calendar; });
    if (!counts) continue;
    auto planned = PlanClosureNotice(e, data, stream, sf->facts, templates_, plan_);
    if (!planned.ok()) return planned.status();
    for (auto& m : *planned) {
      if (Status s = Owe(std::move(m), tenant, rows); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace procedo::projections
