// The one way events enter the log. Each event is checked against its type's schema and stamped
// with the actor, tenant, correlation and causation of what caused it; the append carries the
// expected version and the idempotency key, and an allocator's events for other streams ride in
// the same batch. The command handler emits through it; so does `procedo log append`, the
// operators' low-level tool. Nothing else in the product appends.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/log/log_store.h"
#include "engine/workflow/decide.h"
#include "engine/workflow/json_schema.h"
#include "engine/workflow/workflow.h"

namespace procedo {

// What every event of one emission shares.
struct EmitHeader {
  std::string stream;
  ExpectedVersion expected;
  std::string actor;  // the envelope's actor JSON (Actor::EnvelopeJson)
  std::string tenant;
  std::string correlation_id;
  std::string causation_id;
  std::string idempotency_key;
};

class EventEmitter {
 public:
  // Both must outlive the emitter.
  EventEmitter(LogStore& log, const EventSchemas& schemas) : log_(log), schemas_(schemas) {}

  // The append request for `events` (and `also`), or InvalidArgument with sub-code
  // kSchemaViolation naming the first event whose data its schema refuses: then nothing is
  // appended.
  Result<AppendRequest> Build(const EmitHeader& header, const std::vector<DecidedEvent>& events,
                              const std::vector<AllocatedEvent>& also = {}) const;
  Result<AppendResult> Emit(const EmitHeader& header, const std::vector<DecidedEvent>& events,
                            const std::vector<AllocatedEvent>& also = {});
  // `done` runs on the log's writer thread (or at once on a schema refusal): keep it short.
  void EmitAsync(const EmitHeader& header, const std::vector<DecidedEvent>& events,
                 std::function<void(Result<AppendResult>)> done);

  const LogStore& log() const { return log_; }
  const EventSchemas& schemas() const { return schemas_; }

 private:
  LogStore& log_;
  const EventSchemas& schemas_;
};

}  // namespace procedo
