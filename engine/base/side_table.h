// Rows kept beside a store's own data, in a table of their own, written either alone (synced) or
// inside the store's durable batches, so that they reach the disk together with what needs them:
// one sync, never the one without the other. The event log has one; the subject keys live there,
// written in the batch of the first event sealed with them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace procedo {

struct SideRow {
  std::string key;
  std::string value;
};

class SideTable {
 public:
  virtual ~SideTable() = default;
  virtual Result<std::optional<std::string>> GetSide(std::string_view key) const = 0;
  // Every row whose key starts with `prefix`, in key order.
  virtual Result<std::vector<SideRow>> ScanSide(std::string_view prefix) const = 0;
  // Puts and deletes in one synced write of their own.
  virtual Status WriteSide(const std::vector<SideRow>& puts,
                           const std::vector<std::string>& deletes) = 0;
  // Deleted rows' bytes leave the disk before this returns: every memory table is flushed (so
  // the write-ahead files that held them are obsolete and deleted) and the side table is
  // compacted to its bottom level, dropping the deleted rows.
  virtual Status ScrubSide() = 0;
  // Called, on the writer's thread, with the side rows of each batch once it is durable; one
  // listener, set before the first write. Keep it short.
  virtual void OnSideDurable(std::function<void(const std::vector<SideRow>&)> listener) = 0;
};

}  // namespace procedo
