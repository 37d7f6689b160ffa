// Envelope rules, checked before an append reaches the writer: a violation appends nothing.
#include <fmt/format.h>

#include <simdjson.h>

#include <optional>

#include <array>

#include "engine/log/codec.h"
#include "engine/log/log_core.h"

namespace procedo {
namespace {

constexpr size_t kMaxStreamBytes = 200;
constexpr size_t kMaxTypeBytes = 100;
constexpr size_t kMaxTenantBytes = 64;
constexpr size_t kMaxIdBytes = 128;
// Deep enough for any real document, shallow enough that nobody's recursive reader overflows.
constexpr size_t kMaxJsonDepth = 64;
// Fixed part of an encoded event: format byte, position, version, time, id, seven string
// lengths, prev_hash and hash (engine/README.md).
constexpr size_t kFixedEventBytes = 1 + 8 + 8 + 8 + 16 + 7 * 4 + 32 + 32;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPrintableAscii(char c) { return c > 0x20 && c < 0x7f; }

// Nesting is bounded before parsing: the JSON library recurses when it serialises, and a
// 1 MiB document of brackets must not exhaust the stack.
// Keys must be unique per object: JSON allows duplicates, but readers would disagree on what
// the event says. Depth is bounded by the parser, so this recursion is too.
std::string_view DuplicateKey(simdjson::dom::element el) {
  if (auto arr = el.get_array(); !arr.error()) {
    for (auto child : arr.value_unsafe()) {
      if (auto d = DuplicateKey(child); !d.empty()) return d;
    }
    return {};
  }
  auto obj = el.get_object();
  if (obj.error()) return {};
  // Most objects have a handful of keys: compare against those on the stack, allocate beyond.
  std::array<std::string_view, 16> few;
  size_t n = 0;
  std::vector<std::string_view> more;
  for (auto field : obj.value_unsafe()) {
    for (size_t i = 0; i < n; ++i) {
      if (few[i] == field.key) return field.key;
    }
    for (auto k : more) {
      if (k == field.key) return field.key;
    }
    if (n < few.size()) few[n++] = field.key;
    else more.push_back(field.key);
    if (auto d = DuplicateKey(field.value); !d.empty()) return d;
  }
  return {};
}

const char* TypeName(simdjson::dom::element_type t) {
  switch (t) {
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::BOOL: return "boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default: return "number";
  }
}

// The stored form of a JSON object is the sender's text, minified, keys in the sender's order.
// Re-serialising (say, sorting keys) would cost more than the rest of an append, and the hash
// covers the stored bytes whatever their form. simdjson validates UTF-8 and structure at
// several GB/s; the parser is per thread because it keeps its buffers between calls.
Status CheckObject(const std::string& what, std::string* text) {
  thread_local simdjson::dom::parser parser(/*max_capacity=*/64 << 20);
  thread_local bool depth_set = parser.allocate(4096, kMaxJsonDepth) == simdjson::SUCCESS;
  (void)depth_set;
  simdjson::dom::element doc;
  if (auto err = parser.parse(*text).get(doc); err) {
    if (err == simdjson::DEPTH_ERROR) {
      return Status::InvalidArgument(fmt::format(
          "{} nests deeper than {} levels: flatten the document", what, kMaxJsonDepth));
    }
    return Status::InvalidArgument(fmt::format("{} is not valid JSON ({}): send a JSON object",
                                               what, simdjson::error_message(err)));
  }
  if (doc.type() != simdjson::dom::element_type::OBJECT) {
    return Status::InvalidArgument(fmt::format("{} is a JSON {}, not an object: wrap it in {{}}",
                                               what, TypeName(doc.type())));
  }
  if (auto dup = DuplicateKey(doc); !dup.empty()) {
    return Status::InvalidArgument(
        fmt::format("{} has the key '{}' twice: send each key once", what, dup));
  }
  // Most senders already send minified text: minify into a reused buffer and copy only when
  // something was removed.
  thread_local std::string minified;
  if (minified.size() < text->size()) minified.resize(std::max(text->size(), size_t{4096}));
  size_t n = 0;
  if (simdjson::minify(text->data(), text->size(), minified.data(), n) == simdjson::SUCCESS &&
      n != text->size()) {
    text->assign(minified.data(), n);
  }
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

namespace {

// Checks and canonicalises the events of one stream of an append; `first` numbers them in
// messages across the whole append.
Status PrepareEvents(const LogOptions& options, const std::string& stream,
                     std::vector<NewEvent>& events, size_t first, codec::Sha256* sha,
                     size_t* total) {
  if (Status s = ValidateStreamId(stream); !s.ok()) return s;
  if (events.empty()) {
    return Status::InvalidArgument("an append needs at least one event for each of its streams");
  }
  if (sha != nullptr) sha->Update(stream.data(), stream.size() + 1);  // with its NUL
  std::string last_actor_sent;
  for (size_t k = 0; k < events.size(); ++k) {
    NewEvent& e = events[k];
    const size_t i = first + k;
    auto where = [i](const char* field) {
      return fmt::format("event {} of the append: {}", i + 1, field);
    };
    if (Status s = ValidateEventType(e.type); !s.ok()) {
      return Status::InvalidArgument(fmt::format("event {} of the append: {}", i + 1, s.message()));
    }
    // Refuse the grossly oversized before parsing; the exact limit applies to the stored form.
    if (e.data.size() + e.actor.size() > 2 * options.max_event_bytes) {
      return Status::TooLarge(fmt::format(
          "event {} of the append (type {}) has {} bytes of JSON, far over the limit of {}: keep "
          "large documents outside the log and put their reference in the event",
          i + 1, e.type, e.data.size() + e.actor.size(), options.max_event_bytes));
    }
    if (Status s = CheckObject("data", &e.data); !s.ok()) {
      return Status::InvalidArgument(where(s.message().c_str()));
    }
    if (e.actor.empty()) e.actor = "{}";
    // The events of one append nearly always share their actor: its text is checked once.
    if (k > 0 && e.actor == last_actor_sent) {
      e.actor = events[k - 1].actor;
    } else {
      last_actor_sent = e.actor;
      if (Status s = CheckObject("actor", &e.actor); !s.ok()) {
        return Status::InvalidArgument(where(s.message().c_str()));
      }
    }
    if (Status s = CheckPlainField("tenant", e.tenant, kMaxTenantBytes); !s.ok()) {
      return Status::InvalidArgument(where(s.message().c_str()));
    }
    if (Status s = CheckPlainField("correlation id", e.correlation_id, kMaxIdBytes); !s.ok()) {
      return Status::InvalidArgument(where(s.message().c_str()));
    }
    if (Status s = CheckPlainField("causation id", e.causation_id, kMaxIdBytes); !s.ok()) {
      return Status::InvalidArgument(where(s.message().c_str()));
    }
    size_t bytes = kFixedEventBytes + stream.size() + e.type.size() + e.tenant.size() +
                   e.actor.size() + e.correlation_id.size() + e.causation_id.size() +
                   e.data.size();
    if (bytes > options.max_event_bytes) {
      return Status::TooLarge(fmt::format(
          "event {} of the append (type {}) encodes to {} bytes, over the limit of {}: keep large "
          "documents outside the log and put their reference in the event",
          i + 1, e.type, bytes, options.max_event_bytes));
    }
    *total += bytes;
    if (sha != nullptr) {
      sha->Update(e.type.data(), e.type.size() + 1);
      sha->Update(e.data.data(), e.data.size() + 1);
    }
  }
  return Status::Ok();
}

Status CheckExpectedSyntax(const ExpectedVersion& expected) {
  if (expected.kind == ExpectedVersion::Kind::kExact && expected.version == 0) {
    return Status::InvalidArgument(
        "expected version 0 is not a version (versions start at 1): expect 'no stream' instead");
  }
  return Status::Ok();
}

}  // namespace

Status PrepareAppend(const LogOptions& options, PendingAppend* p) {
  AppendRequest& r = p->request;
  size_t count = r.events.size();
  for (const auto& a : r.also) count += a.events.size();
  if (count > options.max_events_per_append) {
    return Status::TooLarge(fmt::format(
        "an append of {} events is over the limit of {}: split it into several appends", count,
        options.max_events_per_append));
  }
  if (!r.idempotency_key.empty()) {
    if (Status s = CheckPlainField("the idempotency key", r.idempotency_key, 200); !s.ok()) return s;
  }
  if (Status s = CheckExpectedSyntax(r.expected); !s.ok()) return s;
  // The fingerprint tells a retry from a different request under the same idempotency key; an
  // append without a key needs none.
  std::optional<codec::Sha256> sha;
  if (!r.idempotency_key.empty()) sha.emplace();
  size_t total = 0;
  codec::Sha256* h = sha ? &*sha : nullptr;
  if (Status s = PrepareEvents(options, r.stream, r.events, 0, h, &total); !s.ok()) return s;
  size_t first = r.events.size();
  for (auto& a : r.also) {
    if (a.stream == r.stream) {
      return Status::InvalidArgument(fmt::format(
          "stream {} appears twice in one append: put all its events in one list", a.stream));
    }
    if (Status s = CheckExpectedSyntax(a.expected); !s.ok()) return s;
    if (Status s = PrepareEvents(options, a.stream, a.events, first, h, &total); !s.ok()) return s;
    first += a.events.size();
  }
  if (sha) p->fingerprint = sha->Final();
  p->bytes = total;
  return Status::Ok();
}

}  // namespace procedo
