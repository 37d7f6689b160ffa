// The audit trail by actor: every event each actor caused, in log order. (Every event of a stream
// is the log's own stream index: GET /v1/streams/{id}/events.)
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class AuditTrailProjection final : public Projection {
 public:
  static constexpr const char* kName = "audit_actors";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <actor id> 0x00 <position, 20 digits>  ->  {position, stream, version, type, time, tenant,
  // role}. System actors are "system:<name>".
  static std::string ActorPrefix(const std::string& actor) { return actor + '\0'; }
};

}  // namespace procedo::projections
