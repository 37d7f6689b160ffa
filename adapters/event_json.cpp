#include "adapters/event_json.h"

#include <fmt/format.h>

namespace procedo {
namespace {

nlohmann::json ParseOrText(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AppendString(std::string_view s, std::string* out) {
  // Ids, types and tenants are plain ASCII; anything else (a client's correlation id) is escaped
  // by the JSON library, which replaces invalid UTF-8 as every other answer does.
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') {
      out->append(Dump(nlohmann::json(std::string(s))));
      return;
    }
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

void AppendDocument(const std::string& text, std::string* out) {
  // The emitter writes data and actor as JSON objects; a value the log holds in another form is
  // shown as EventToJson shows it.
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    out->append(text);
  } else {
    out->append(Dump(ParseOrText(text)));
  }
}

}  // namespace

nlohmann::json EventToJson(const Event& e) {
  return {{"position", e.position},
          {"stream", e.stream},
          {"version", e.version},
          {"type", e.type},
          {"id", UuidToString(e.id)},
          {"time", FormatTime(e.time)},
          {"tenant", e.tenant},
          {"actor", ParseOrText(e.actor)},
          {"correlation_id", e.correlation_id},
          {"causation_id", e.causation_id},
          {"data", ParseOrText(e.data)},
          {"prev_hash", HashToHex(e.prev_hash)},
          {"hash", HashToHex(e.hash)}};
}

void AppendEventJson(const Event& e, std::string* out) {
  // The keys in the order nlohmann's objects dump them (sorted), so that both forms read alike.
  out->append(R"({"actor":)");
  AppendDocument(e.actor, out);
  out->append(R"(,"causation_id":)");
  AppendString(e.causation_id, out);
  out->append(R"(,"correlation_id":)");
  AppendString(e.correlation_id, out);
  out->append(R"(,"data":)");
  AppendDocument(e.data, out);
  out->append(R"(,"hash":")").append(HashToHex(e.hash));
  out->append(R"(","id":")").append(UuidToString(e.id));
  fmt::format_to(std::back_inserter(*out), R"(","position":{},"prev_hash":")", e.position);
  out->append(HashToHex(e.prev_hash));
  out->append(R"(","stream":)");
  AppendString(e.stream, out);
  out->append(R"(,"tenant":)");
  AppendString(e.tenant, out);
  out->append(R"(,"time":)");
  AppendString(FormatTime(e.time), out);
  out->append(R"(,"type":)");
  AppendString(e.type, out);
  fmt::format_to(std::back_inserter(*out), R"(,"version":{}}})", e.version);
}

}  // namespace procedo
