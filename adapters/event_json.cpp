#include "adapters/event_json.h"

namespace procedo {

nlohmann::json EventToJson(const Event& e) {
  auto parse = [](const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? nlohmann::json(text) : j;
  };
  return {{"position", e.position},
          {"stream", e.stream},
          {"version", e.version},
          {"type", e.type},
          {"id", UuidToString(e.id)},
          {"time", FormatTime(e.time)},
          {"tenant", e.tenant},
          {"actor", parse(e.actor)},
          {"correlation_id", e.correlation_id},
          {"causation_id", e.causation_id},
          {"data", parse(e.data)},
          {"prev_hash", HashToHex(e.prev_hash)},
          {"hash", HashToHex(e.hash)}};
}

}  // namespace procedo
