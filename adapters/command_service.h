// The transport-neutral half of a command: principal + command -> outcome or problem. The HTTP
// route (POST /v1/streams/{id}/commands/{command}) and the Kafka command consumer both call it,
// so a command is validated, authorized and answered the same way whichever way it arrives;
// each transport only reads its own framing (path and headers, or a message) and its credentials.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "domain/access.h"
#include "adapters/problem.h"
#include "engine/log/log_store.h"
#include "engine/workflow/workflow.h"

namespace procedo {

class CommandHandler;
struct Rejection;

struct CommandReply {
  // 201 appended, 200 answered from the idempotency record (nothing appended), else the
  // problem's status.
  int status = 0;
  // Accepted: {stream, version, position, first_position, deduplicated, events}.
  nlohmann::json body;
  std::optional<Problem> problem;  // set when the command was refused or failed
  uint64_t stream_version = 0;     // after the command; for HTTP's ETag

  bool accepted() const { return !problem.has_value(); }
};

// Decides and appends `command` as `who`. `handler` may be null (no workflows loaded: 503).
// Administrators act on an existing stream on behalf of its owning tenant; the event still
// records the administrator as its actor.
CommandReply ExecuteCommand(CommandHandler* handler, const Principal& who, const Command& command);

// The problem a refusal of decide means: 404 unknown-command, 409 not-allowed-in-state,
// 403 role-not-allowed / tenant-not-allowed, 422 payload-invalid (with violations) or
// guard-refused (with the guard).
Problem ProblemFromRejection(const Rejection& r);

}  // namespace procedo
