#include "adapters/kafka/command_message.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "adapters/command_service.h"

namespace procedo::kafka {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> kKnown = {
    "stream",          "command",        "payload", "expected_version",
    "idempotency_key", "correlation_id", "api_key"};
constexpr const char* kFields =
    "stream, command, payload, expected_version, idempotency_key, correlation_id, api_key";

struct Violations {
  json list = json::array();
  void Add(const std::string& field, const std::string& message) {
    list.push_back({{"path", "/" + field}, {"message", message}});
  }
};

// A string field: read into `out` whenever it is a string (even an invalid message echoes it).
void ReadString(const json& j, const char* name, bool required, const char* what, std::string* out,
                Violations* v) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) v->Add(name, fmt::format("required: {}", what));
    return;
  }
  if (!it->is_string()) {
    v->Add(name, fmt::format("must be a string: {}", what));
    return;
  }
  *out = it->get<std::string>();
  if (required && out->empty()) v->Add(name, fmt::format("must not be empty: {}", what));
}

}  // namespace

CommandMessage ParseCommandMessage(std::string_view value) {
  CommandMessage m;
  json j = json::parse(value.begin(), value.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    m.problem = Problem{400, "malformed-json", "Malformed JSON",
                        fmt::format("the message value must be a JSON object with the fields {} "
                                    "(schemas/kafka/command.json)",
                                    kFields)};
    return m;
  }
  Violations v;
  ReadString(j, "stream", true, "the stream id, e.g. ticket-comune-forli-1", &m.command.stream, &v);
  ReadString(j, "command", true, "the command's name, e.g. open_ticket", &m.command.name, &v);
  ReadString(j, "idempotency_key", true,
             "a key unique to this command; the result is keyed by it and a redelivered command "
             "is answered from its first result",
             &m.command.idempotency_key, &v);
  ReadString(j, "correlation_id", false, "copied to the events' correlation_id",
             &m.command.correlation_id, &v);
  // The API key is checked by authentication, which answers 401 as HTTP does without one.
  if (auto it = j.find("api_key"); it != j.end() && it->is_string()) {
    m.api_key = it->get<std::string>();
  }
  if (auto it = j.find("payload"); it != j.end() && !it->is_null()) {
    if (it->is_object()) {
      m.command.payload = *it;
    } else {
      v.Add("payload", "must be a JSON object: the command's payload (as the HTTP body)");
    }
  }
  if (auto it = j.find("expected_version"); it != j.end() && !it->is_null()) {
    if (it->is_number_unsigned()) {
      m.command.expected_version = it->get<uint64_t>();
    } else {
      v.Add("expected_version",
            "must be a non-negative integer: the stream version you decided on (HTTP If-Match); "
            "leave it out to act on any version");
    }
  }
  for (const auto& [name, _] : j.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
      v.Add(name, fmt::format("unknown field; the fields are {}", kFields));
    }
  }
  if (!v.list.empty()) {
    std::string first = fmt::format("{}: {}", v.list[0]["path"].get<std::string>(),
                                    v.list[0]["message"].get<std::string>());
    if (v.list.size() > 1)
      first += fmt::format(" (and {} more, see violations)", v.list.size() - 1);
    m.problem = Problem{400,
                        "invalid-command-message",
                        "The command message is invalid",
                        first + "; the format is schemas/kafka/command.json",
                        {{"violations", v.list}}};
  }
  return m;
}

namespace {

// The command's identifiers, so that a result can be matched to its command even without a key.
void Echo(const CommandMessage& m, const MessageOrigin& origin, json* out) {
  const Command& c = m.command;
  if (!c.idempotency_key.empty()) (*out)["idempotency_key"] = c.idempotency_key;
  if (!c.stream.empty()) (*out)["stream"] = c.stream;
  if (!c.name.empty()) (*out)["command"] = c.name;
  if (!c.correlation_id.empty()) (*out)["correlation_id"] = c.correlation_id;
  (*out)["origin"] = {
      {"topic", origin.topic}, {"partition", origin.partition}, {"offset", origin.offset}};
}

std::string Dump(const json& j) {
  // Replace, not throw, on bytes that are not UTF-8: a result must always be produced.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

CommandResult ProblemResult(const CommandMessage& m, const MessageOrigin& origin, const Problem& p,
                            MessageOutcome outcome, size_t max_value_bytes) {
  json body = p.ToJson();
  Echo(m, origin, &body);
  CommandResult r{"", Dump(body), p.status, outcome};
  if (r.value.size() > max_value_bytes) {
    // Only a message near the size limit can have this many violations; the core still fits.
    json small = Problem{p.status, p.type, p.title, p.detail.substr(0, 1000)}.ToJson();
    Echo(m, origin, &small);
    r.value = Dump(small);
  }
  return r;
}

}  // namespace

CommandResult AnswerCommandMessage(std::string_view value, const MessageOrigin& origin,
                                   const ApiKeyRing& keys, const CommandService* commands,
                                   size_t max_value_bytes) {
  CommandMessage m = ParseCommandMessage(value);
  CommandResult r;
  if (m.problem && m.problem->type == "malformed-json") {
    r = ProblemResult(m, origin, *m.problem, MessageOutcome::kMalformed, max_value_bytes);
  } else if (std::optional<Principal> who = keys.Find(m.api_key); !who) {
    // Authentication comes before validation, as over HTTP: a sender without a valid key learns
    // nothing about the command.
    Problem p = Problem::Unauthenticated(
        m.api_key.empty() ? "the command message has no api_key: send the integrator's API key "
                            "(`procedo apikey create`) in the api_key field"
                          : ApiKeyRing::kUnknownKey);
    r = ProblemResult(m, origin, p, MessageOutcome::kUnauthenticated, max_value_bytes);
  } else if (m.problem) {
    r = ProblemResult(m, origin, *m.problem, MessageOutcome::kMalformed, max_value_bytes);
  } else {
    CommandReply reply =
        commands != nullptr
            ? commands->Execute(*who, m.command)
            : CommandReply{503, {}, Problem{503, "unavailable", "Commands are not available",
                                            "no workflows are loaded"}, 0};
    if (!reply.accepted()) {
      r = ProblemResult(m, origin, *reply.problem, MessageOutcome::kRefused, max_value_bytes);
    } else {
      json body = reply.Document();
      body["status"] = reply.status;
      Echo(m, origin, &body);
      r.status = reply.status;
      r.outcome = reply.status == 201 ? MessageOutcome::kAccepted : MessageOutcome::kDeduplicated;
      r.value = Dump(body);
      if (r.value.size() > max_value_bytes) {
        body["events"] = json::array();
        body["events_omitted"] = true;
        r.value = Dump(body);
      }
    }
  }
  r.key = m.command.idempotency_key.empty() ? origin.key : m.command.idempotency_key;
  return r;
}

}  // namespace procedo::kafka
