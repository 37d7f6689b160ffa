// Auditor's check of a log directory: the hash chain, gap-free positions and the stream index.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/log/event.h"
#include "engine/base/status.h"

namespace procedo {

struct VerifyReport {
  bool ok = false;
  uint64_t events_checked = 0;
  uint64_t index_entries_checked = 0;
  uint64_t first_bad_position = 0;  // 0 when ok
  std::string problem;              // what is broken there, when not ok
  Hash head_hash{};                 // hash of the last event: anchor it elsewhere to detect truncation
};

// Opens the log read-only. A non-ok Status means the log could not be read at all; a broken
// log is a report with ok == false. `progress` is called every 2^16 events with the count so far.
Result<VerifyReport> VerifyLog(const std::string& path,
                               const std::function<void(uint64_t)>& progress = nullptr);

}  // namespace procedo
