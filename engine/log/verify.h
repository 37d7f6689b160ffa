// Auditor's check of a log directory: the hash chain, gap-free positions and the stream index.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/log/event.h"
#include "engine/log/log_store.h"

namespace procedo {

struct VerifyReport {
  bool ok = false;
  uint64_t events_checked = 0;
  uint64_t index_entries_checked = 0;
  uint64_t first_bad_position = 0;  // 0 when ok
  std::string problem;              // what is broken there, when not ok
  Hash head_hash{};  // hash of the last event: anchor it elsewhere to detect truncation
};

// Opens the log read-only. A non-ok Status means the log could not be read at all; a broken
// log is a report with ok == false. `progress` is called every 2^16 events with the count so far.
Result<VerifyReport> VerifyLog(const std::string& path,
                               const std::function<void(uint64_t)>& progress = nullptr);

// The chain's rule for one stored event, the only one: its value decodes, says it is `position`,
// carries `prev` (the stored hash of the event before it; zeros at position 1) as its prev_hash,
// and its bytes hash to its hash. nullopt when all hold, else what is broken; `decoded` gets the
// event when its value decodes.
std::optional<std::string> CheckLink(uint64_t position, std::string_view stored, const Hash& prev,
                                     Event* decoded = nullptr);

// One event of a stream, as VerifyStream found it.
struct StreamLink {
  uint64_t version = 0;
  uint64_t position = 0;
  // Its own link holds and so does the next event's, which names its hash: nobody altered,
  // removed or replaced it without breaking the chain.
  bool ok = false;
  std::optional<Event> event;  // when its value decodes
};

struct StreamVerifyReport {
  bool ok = false;
  uint64_t first_bad_position = 0;  // 0 when ok
  std::string problem;              // what is broken there, when not ok
  std::vector<StreamLink> links;    // by version
  bool truncated = false;           // the stream has more events than were checked
};

// The chain checked around one stream's events, on the live log: each of its events' links
// (CheckLink) and the link of the event after each (which must name its hash), and that the
// stream index's entries point at events of this stream and version. Cheaper than VerifyLog (a
// few reads per event), and weaker: it vouches for these events' place in the chain, not for the
// whole log from its first event (`procedo verify` does that). At most `limit` events.
Result<StreamVerifyReport> VerifyStream(const LogStore& log, const std::string& stream,
                                        size_t limit = 1000);

}  // namespace procedo
