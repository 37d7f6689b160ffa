// The transport-neutral half of a command: principal + command -> outcome or problem. The HTTP
// route (POST /v1/streams/{id}/commands/{command}) and the Kafka command consumer both call it,
// so a command is validated, authorized and answered the same way whichever way it arrives;
// each transport only reads its own framing (path and headers, or a message) and its credentials.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

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
  // Accepted: {stream, version, position, first_position, deduplicated} (and a new stream's
  // number, from Create); the events are in `events`.
  nlohmann::json body;
  std::optional<Problem> problem;  // set when the command was refused or failed
  uint64_t stream_version = 0;     // after the command; for HTTP's ETag
  // Accepted: the command's events as a JSON array, written from their stored text.
  std::string events = "[]";

  bool accepted() const { return !problem.has_value(); }
  // The whole answer, `body` with its "events", as JSON text and as a document.
  std::string Text() const;
  nlohmann::json Document() const;
};

// One per server, shared by every transport.
class CommandService {
 public:
  // `handler` may be null (no workflows loaded: 503). `tenants`: the organisations the domain
  // knows (domain/calendars/tenants.json), which stream ids name.
  CommandService(CommandHandler* handler, std::set<std::string> tenants)
      : handler_(handler), tenants_(std::move(tenants)) {}

  // Decides and appends `command` as `who`. A stream id names its tenant ("case-<tenant>-<n>"):
  // a principal creates streams only under its own tenant's ids, and acts on another tenant's
  // id only where that stream was forwarded to it; anything else is 404, whether the stream
  // exists or not, so an id of another tenant tells nothing. Administrators act on behalf of the
  // tenant the stream (or its id) names; the event still records the administrator as its actor.
  CommandReply Execute(const Principal& who, const Command& command) const;
  // A command that creates a stream the server names (POST /v1/tickets): `command.stream` is
  // ignored and becomes "<kind>-<who's tenant>-<id>" (domain::NewStreamId, derived from the
  // idempotency key when there is one, so a retry meets its first attempt). The body also
  // carries the number the stream was given, when it was given one.
  CommandReply Create(const Principal& who, const std::string& kind, Command command) const;
  CommandHandler* handler() const { return handler_; }

 private:
  CommandHandler* handler_;
  std::set<std::string> tenants_;
};

// The problem a refusal of decide means: 404 unknown-command, 409 not-allowed-in-state,
// 403 role-not-allowed / tenant-not-allowed, 422 payload-invalid (with violations) or
// guard-refused (with the guard).
Problem ProblemFromRejection(const Rejection& r);

}  // namespace procedo
