// The event envelope (engine/README.md). `data` is kept as canonical JSON text so that
// readers that only route events (replay, relays, subscriptions) never parse it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/clock.h"

namespace procedo {

using Hash = std::array<uint8_t, 32>;
using Uuid = std::array<uint8_t, 16>;

struct Event {
  uint64_t position = 0;   // global order, gap-free, from 1
  std::string stream;      // aggregate instance, e.g. "case-t1-42"
  uint64_t version = 0;    // order within the stream, from 1
  std::string type;        // "case.started"
  Uuid id{};               // UUIDv7
  TimePoint time{};        // recorded instant, UTC, microseconds
  std::string tenant;      // owning organisation
  std::string actor;       // JSON object text: {"id":..,"role":..} or {"system":..}
  std::string correlation_id;
  std::string causation_id;
  std::string data;        // JSON object text, canonical (sorted keys, no whitespace)
  Hash prev_hash{};
  Hash hash{};
};

// What a caller asks to append; the log assigns position, version, time, hashes and (unless
// given) the id.
struct NewEvent {
  std::string type;
  std::string data;        // must be a JSON object
  std::string tenant;
  std::string actor;       // must be a JSON object; "{}" when empty
  std::string correlation_id;
  std::string causation_id;
  std::optional<Uuid> id;  // callers that derive ids deterministically pass them
};

std::string UuidToString(const Uuid& id);
std::optional<Uuid> UuidFromString(const std::string& text);
std::string HashToHex(const Hash& h);
// RFC 3339 UTC with microseconds: 2026-11-25T10:46:47.123456Z
std::string FormatTime(TimePoint t);

}  // namespace procedo
