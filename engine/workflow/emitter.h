// The one way events enter the log. Each event is checked against its type's schema and stamped
// with the actor, tenant, correlation and causation of what caused it; the append carries the
// expected version and the idempotency key, and an allocator's events for other streams ride in
// the same batch. The command handler emits through it; so does `procedo log append`, the
// operators' low-level tool. Nothing else in the product appends.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/crypto/personal.h"
#include "engine/log/log_store.h"
#include "engine/log/uuid.h"
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
  // All must outlive the emitter. With `personal`, the fields the schemas mark personal are
  // sealed (personal_fields.h) once the event passed its schema; without it they are kept as
  // given (a deployment without a master key).
  EventEmitter(LogStore& log, const EventSchemas& schemas, crypto::PersonalData* personal = nullptr,
               const Clock& clock = SystemClock::Instance())
      : log_(log), schemas_(schemas), personal_(personal), ids_(clock) {}

  // The append request for `events` (and `also`), or InvalidArgument with sub-code
  // kSchemaViolation naming the first event whose data its schema refuses: then nothing is
  // appended. Personal fields are sealed in `events` themselves, so that what the caller folds
  // is what the log holds; building again from them keeps the first sealing and event id.
  Result<AppendRequest> Build(const EmitHeader& header, std::vector<DecidedEvent>& events,
                              const std::vector<AllocatedEvent>& also = {});
  Result<AppendResult> Emit(const EmitHeader& header, std::vector<DecidedEvent>& events,
                            const std::vector<AllocatedEvent>& also = {});
  // `done` runs on the log's writer thread (or at once on a schema refusal): keep it short.
  void EmitAsync(const EmitHeader& header, std::vector<DecidedEvent>& events,
                 std::function<void(Result<AppendResult>)> done);

  // What sealing needs from the subject key store (subjects claimed, keys made), and the sealing
  // itself, done before the caller takes any lock around the append: Build then puts the sealed
  // values in (sealing only what changed since), and the append writes the rows made in its own
  // batch. Nothing to do without sealing, or for events sealed already.
  Status PrepareSubjects(const std::string& tenant, std::vector<DecidedEvent>& events);

  const LogStore& log() const { return log_; }
  const EventSchemas& schemas() const { return schemas_; }

 private:
  // Checks one event against its schema and seals its personal fields; `id` is set when it has
  // any (the values are sealed for that event).
  Status CheckAndSeal(const std::string& stream, const std::string& tenant, DecidedEvent& e,
                      std::optional<Uuid>& id);

  LogStore& log_;
  const EventSchemas& schemas_;
  crypto::PersonalData* personal_;
  UuidV7Generator ids_;
};

}  // namespace procedo
