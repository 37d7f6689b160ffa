// decide(state, command, actor, now) -> events | rejection, and the fold that rebuilds state
// from events. Both are pure: the same inputs give the same outputs, which is what lets a state
// be cached, snapshotted and rebuilt by replay.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/base/side_table.h"
#include "engine/log/event.h"
#include "engine/workflow/json_schema.h"
#include "engine/workflow/personal_fields.h"
#include "engine/workflow/workflow.h"

namespace procedo {

struct Rejection {
  enum class Kind {
    kUnknownCommand,     // the workflow has no such command
    kNotAllowedInState,  // the command exists but not from the stream's current state
    kRoleNotAllowed,
    kTenantNotAllowed,
    kPayloadInvalid,  // `violations` lists every schema violation
    kGuardRefused,    // `guard` names it; `message` carries its reason
  };
  Kind kind;
  std::string message;
  std::vector<SchemaViolation> violations;
  std::string guard;
};
const char* RejectionKindName(Rejection::Kind kind);

struct DecidedEvent {
  std::string type;
  nlohmann::json data;
  std::vector<std::string> allocators;  // run by the command handler before the append
  // The id the emitter gave the event when it sealed its personal fields (EventEmitter): set,
  // the event was checked and sealed already, and an append tried again keeps both.
  std::optional<Uuid> sealed_for = std::nullopt;
  // Key store rows the sealing needs on the disk with this event (EventEmitter::PrepareSubjects):
  // its append writes them in the same batch.
  std::vector<SideRow> side_rows = {};
  // Its personal values sealed ahead for the event id `sealed_ahead_for`, outside the lock an
  // allocating append holds (EventEmitter::PrepareSubjects): Build puts them in.
  std::optional<Uuid> sealed_ahead_for = std::nullopt;
  std::vector<SealedValue> sealed_ahead = {};
};

struct Decision {
  std::variant<std::vector<DecidedEvent>, Rejection> result;
  nlohmann::json reply = nullptr;  // a decider's DeciderOutcome::reply
  bool accepted() const { return result.index() == 0; }
  const std::vector<DecidedEvent>& events() const { return std::get<0>(result); }
  std::vector<DecidedEvent>& events() { return std::get<0>(result); }
  const Rejection& rejection() const { return std::get<1>(result); }
};

// `open_personal` (when personal data is sealed) reaches the guards, effects and deciders.
Decision Decide(const WorkflowDefinition& def, const WorkflowState& state, const Command& command,
                const Actor& actor, TimePoint now,
                const OpenPersonalValue* open_personal = nullptr);

// Folds one event into the state. Types the definition does not know (e.g. ones other components
// append to the stream) advance the version only. `data`'s fields are moved into the state.
void Apply(const WorkflowDefinition& def, WorkflowState& state, const std::string& stream,
           uint64_t version, const std::string& tenant, const std::string& type,
           nlohmann::json data);
// The same for a stored event; its data is parsed. A data that does not parse is corruption.
Status ApplyEvent(const WorkflowDefinition& def, WorkflowState& state, const Event& event);

}  // namespace procedo
