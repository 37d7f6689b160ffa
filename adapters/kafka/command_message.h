// A command message on `<prefix>.commands` and its result on `<prefix>.command-results`
// (contracts: schemas/kafka/command.json and schemas/kafka/command-result.json). Everything from
// a message's bytes to its result's bytes is here and needs no broker: parse, authenticate with
// the integrator's API key, then the same ExecuteCommand the HTTP API calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/api_keys.h"
#include "adapters/problem.h"
#include "engine/workflow/workflow.h"

namespace procedo {
class CommandService;
}

namespace procedo::kafka {

struct CommandMessage {
  // The fields that could be read, also from a message that is not a valid command: the
  // result echoes them and is keyed by the idempotency key.
  Command command;
  std::string api_key;
  // 400 malformed-json (not a JSON object) or invalid-command-message (with violations).
  std::optional<Problem> problem;
};

CommandMessage ParseCommandMessage(std::string_view value);

// Where a command message came from; echoed in its result so that a message with no usable key
// can still be matched to its answer.
struct MessageOrigin {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;  // the Kafka message key; may be empty
};

enum class MessageOutcome {
  kAccepted,         // 201: appended
  kDeduplicated,     // 200: answered from the idempotency record, nothing appended
  kRefused,          // the command was decided on and refused, or failed (any other status)
  kMalformed,        // not a command message: not JSON, or fields missing or wrong
  kUnauthenticated,  // no api_key, or one that is not known
};

struct CommandResult {
  std::string key;    // the command's idempotency key, else the message's key
  std::string value;  // JSON: the outcome or an RFC 9457 problem, with the command's ids
  int status = 0;     // as HTTP would answer
  MessageOutcome outcome = MessageOutcome::kRefused;
  bool problem() const { return status >= 300; }
};

// The answer to one command message. A result longer than `max_value_bytes` leaves out the
// events (`events_omitted`: read them over HTTP) rather than fail to be delivered.
CommandResult AnswerCommandMessage(std::string_view value, const MessageOrigin& origin,
                                   const ApiKeyRing& keys, const CommandService* commands,
                                   size_t max_value_bytes);

}  // namespace procedo::kafka
