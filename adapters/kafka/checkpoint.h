// The Kafka relay's checkpoint: the last log position whose delivery (and that of every position
// before it) the broker confirmed. Kept in its own small file so that the log never depends on
// the relay, written with fsync + rename so that a crash leaves either the old or the new value.
#pragma once

#include <cstdint>
#include <string>

#include "engine/log/event.h"
#include "engine/base/status.h"

namespace procedo::kafka {

struct RelayCheckpoint {
  uint64_t position = 0;  // 0: nothing published yet
  Hash hash{};            // hash of the event at `position`: detects a log that was replaced
};

// `dir` is created if missing. A missing file is position 0; an unreadable one is an error that
// names the file.
Result<RelayCheckpoint> LoadCheckpoint(const std::string& dir);
Status SaveCheckpoint(const std::string& dir, const RelayCheckpoint& cp);

}  // namespace procedo::kafka
