#include "projections/views/audit_trail.h"

namespace procedo::projections {

Status AuditTrailProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  // Appends without an actor (direct `procedo log append`) are indexed under "anonymous", so
  // the trail still accounts for every event.
  const std::string actor = pe->actor_id.empty() ? "anonymous" : pe->actor_id;
  PutJson(rows, ActorPrefix(actor) + Pad20(event.position),
          nlohmann::json{{"position", event.position},
                         {"stream", event.stream},
                         {"version", event.version},
                         {"type", event.type},
                         {"time", FormatTime(event.time)},
                         {"tenant", event.tenant},
                         {"role", pe->actor_role}});
  return Status::Ok();
}

}  // namespace procedo::projections
