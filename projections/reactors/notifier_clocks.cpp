// The times a ticket's messages promise: its SLA clocks folded by the one clock rule
// (engine/workflow/sla_clock.h) with the closures announced before the event, so the
// acknowledgement names the deadline the SLA timer will fire at, not a second estimate of it.
#include "domain/italian_text.h"
#include "projections/reactors/notifier.h"
#include "projections/views/clock_facts.h"

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

}  // namespace procedo::projections
