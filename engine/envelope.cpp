// Envelope rules, checked before an append reaches the writer: a violation appends nothing.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "engine/codec.h"
#include "engine/log_core.h"

namespace procedo {
namespace {

constexpr size_t kMaxStreamBytes = 200;
constexpr size_t kMaxTypeBytes = 100;
constexpr size_t kMaxTenantBytes = 64;
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxJsonDepth = 64;
// Fixed part of an encoded event: format byte, position, version, time, id, seven string
// lengths, prev_hash and hash (engine/README.md).
constexpr size_t kFixedEventBytes = 1 + 8 + 8 + 8 + 16 + 7 * 4 + 32 + 32;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPrintableAscii(char c) { return c > 0x20 && c < 0x7f; }

// Nesting is bounded before parsing: the JSON library recurses when it serialises, and a
// 1 MiB document of brackets must not exhaust the stack.
bool DepthWithin(const std::string& text, size_t limit) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Status CanonicalObject(const std::string& what, std::string* text) {
  if (!DepthWithin(*text, kMaxJsonDepth)) {
    return Status::InvalidArgument(fmt::format(
        "{} nests deeper than {} levels: flatten the document", what, kMaxJsonDepth));
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument(fmt::format("{} is not valid JSON ({}): send a JSON object",
                                               what, e.what()));
  }
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("{} is a JSON {}, not an object: wrap it in {{}}",
                                               what, j.type_name()));
  }
  // Keys sorted, no whitespace: the hash covers these bytes, so they must not depend on how a
  // client happened to format its request.
  *text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  return Status::Ok();
}

Status CheckPlainField(const std::string& what, const std::string& v, size_t max) {
  if (v.size() > max) {
    return Status::InvalidArgument(
        fmt::format("{} is {} bytes long; at most {} are allowed", what, v.size(), max));
  }
  for (char c : v) {
    if (!IsPrintableAscii(c)) {
      return Status::InvalidArgument(fmt::format(
          "{} contains a space or a non-ASCII/control byte; use printable ASCII only", what));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateStreamId(const std::string& s) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(fmt::format(
        "stream id '{}' {}: a stream id is '<kind>-<id>', kind in [a-z0-9_] starting with a "
        "letter, id in [A-Za-z0-9_.:@-], at most {} bytes (e.g. 'case-forli-42')",
        s.size() > 80 ? s.substr(0, 80) + "..." : s, why, kMaxStreamBytes));
  };
  if (s.empty()) return bad("is empty");
  if (s.size() > kMaxStreamBytes) return bad("is too long");
  size_t dash = s.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == s.size()) {
    return bad("has no '<kind>-' prefix followed by an id");
  }
  if (!IsLower(s[0])) return bad("does not start with a lowercase letter");
  for (size_t i = 0; i < dash; ++i) {
    if (!IsLower(s[i]) && !IsDigit(s[i]) && s[i] != '_') return bad("has a bad character in its kind");
  }
  for (size_t i = dash + 1; i < s.size(); ++i) {
    char c = s[i];
    bool ok = IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
              c == ':' || c == '@' || c == '-';
    if (!ok) return bad("has a character outside [A-Za-z0-9_.:@-]");
  }
  return Status::Ok();
}

Status ValidateEventType(const std::string& t) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument(fmt::format(
        "event type '{}' {}: a type is dot-separated lowercase words, past tense, at most {} "
        "bytes (e.g. 'case.suspended')",
        t.size() > 80 ? t.substr(0, 80) + "..." : t, why, kMaxTypeBytes));
  };
  if (t.empty()) return bad("is empty");
  if (t.size() > kMaxTypeBytes) return bad("is too long");
  bool word_start = true;
  size_t dots = 0;
  for (char c : t) {
    if (c == '.') {
      if (word_start) return bad("has an empty word");
      word_start = true;
      ++dots;
      continue;
    }
    if (word_start && !IsLower(c)) return bad("has a word that does not start with a letter");
    if (!IsLower(c) && !IsDigit(c) && c != '_') return bad("has a character outside [a-z0-9_.]");
    word_start = false;
  }
  if (word_start) return bad("ends with a dot");
  if (dots == 0) return bad("has no '<aggregate>.' prefix");
  return Status::Ok();
}

std::string StreamKind(const std::string& stream) { return stream.substr(0, stream.find('-')); }

Status PrepareAppend(const LogOptions& options, PendingAppend* p) {
  AppendRequest& r = p->request;
  if (Status s = ValidateStreamId(r.stream); !s.ok()) return s;
  if (r.events.empty()) {
    return Status::InvalidArgument("an append needs at least one event");
  }
  if (r.events.size() > options.max_events_per_append) {
    return Status::TooLarge(fmt::format(
        "an append of {} events is over the limit of {}: split it into several appends",
        r.events.size(), options.max_events_per_append));
  }
  if (!r.idempotency_key.empty()) {
    if (Status s = CheckPlainField("the idempotency key", r.idempotency_key, 200); !s.ok()) return s;
  }
  if (r.expected.kind == ExpectedVersion::Kind::kExact && r.expected.version == 0) {
    return Status::InvalidArgument(
        "expected version 0 is not a version (versions start at 1): expect 'no stream' instead");
  }
  codec::Sha256 sha;
  sha.Update(r.stream.data(), r.stream.size() + 1);  // includes the terminating NUL
  size_t total = 0;
  for (size_t i = 0; i < r.events.size(); ++i) {
    NewEvent& e = r.events[i];
    std::string where = fmt::format("event {} of the append", i + 1);
    if (Status s = ValidateEventType(e.type); !s.ok()) {
      return Status::InvalidArgument(where + ": " + s.message());
    }
    if (Status s = CanonicalObject(where + ": data", &e.data); !s.ok()) return s;
    if (e.actor.empty()) e.actor = "{}";
    if (Status s = CanonicalObject(where + ": actor", &e.actor); !s.ok()) return s;
    for (auto [name, value, max] : {std::tuple{"tenant", &e.tenant, kMaxTenantBytes},
                                    std::tuple{"correlation id", &e.correlation_id, kMaxIdBytes},
                                    std::tuple{"causation id", &e.causation_id, kMaxIdBytes}}) {
      if (Status s = CheckPlainField(where + ": " + name, *value, max); !s.ok()) return s;
    }
    size_t bytes = kFixedEventBytes + r.stream.size() + e.type.size() + e.tenant.size() +
                   e.actor.size() + e.correlation_id.size() + e.causation_id.size() +
                   e.data.size();
    if (bytes > options.max_event_bytes) {
      return Status::TooLarge(fmt::format(
          "{} (type {}) encodes to {} bytes, over the limit of {}: keep large documents outside "
          "the log and put their reference in the event",
          where, e.type, bytes, options.max_event_bytes));
    }
    total += bytes;
    sha.Update(e.type.data(), e.type.size() + 1);
    sha.Update(e.data.data(), e.data.size() + 1);
  }
  p->fingerprint = sha.Final();
  p->bytes = total;
  return Status::Ok();
}

}  // namespace procedo
