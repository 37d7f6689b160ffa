// Private to the command handler's translation units: the answers and checks that the single
// and the batch paths share, so that both say the same thing in the same words.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/workflow/command_handler.h"

namespace procedo::command_detail {

inline Status UnknownKind(const std::string& stream) {
  return Status::InvalidArgument(
      fmt::format("no workflow handles stream '{}' (kind '{}'); use a stream kind a workflow "
                  "declares",
                  stream, StreamKind(stream)),
      Status::SubCode::kUnknownStreamKind);
}

inline Status CheckKey(const std::string& key) {
  if (key.size() > 128 || key.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::InvalidArgument(
        "the idempotency key must be at most 128 printable characters without spaces");
  }
  return Status::Ok();
}

inline bool Allocates(const std::vector<DecidedEvent>& events) {
  return std::any_of(events.begin(), events.end(),
                     [](const DecidedEvent& e) { return !e.allocators.empty(); });
}

// A schema violation of an emitted event is a definition's bug; any other refusal of the emitter
// (a sealed personal value copied into the payload, a key store that fails) is returned as it is.
inline Status DefinitionBug(const Command& command, const WorkflowDefinition& def,
                            const Status& s) {
  if (!s.Is(Status::SubCode::kSchemaViolation)) return s;
  return Status::Corruption(
      fmt::format("bug: command '{}' of workflow {} produced an event its schema refuses, so "
                  "nothing was appended: {}; fix the definition's mapping or the hook",
                  command.name, def.file, s.message()),
      Status::SubCode::kDefinitionBug);
}

inline CommandOutcome NothingAppended(const WorkflowState& state, nlohmann::json reply) {
  CommandOutcome out;
  out.append.stream_version = state.version;
  out.reply = std::move(reply);
  return out;
}

}  // namespace procedo::command_detail
