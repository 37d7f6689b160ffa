// Storage for read models: one RocksDB (separate from the log) with a column family per
// projection and one for checkpoints, so a projection's rows and its checkpoint commit together.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/status.h"
#include "engine/base/store_memory.h"

namespace procedo {

class ViewStoreImpl;

// The rows a projection writes for a batch of events. Reads see the batch's own writes first.
class ViewWriter {
 public:
  virtual ~ViewWriter() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // A row as JSON (Corruption when it is not). The store's batch parses a row at most once and
  // writes it, dumped, once at commit: a row that many events of a batch update (a stream's
  // facts, a counter) costs one parse and one dump, not one per event.
  virtual Result<std::optional<nlohmann::json>> GetJson(std::string_view key);
  virtual void PutJson(std::string_view key, nlohmann::json value);
};

struct ViewRow {
  std::string key;
  std::string value;
};

class ViewStore {
 public:
  // `projections` names every column family the caller will use; others found on disk are kept.
  static Result<std::unique_ptr<ViewStore>> Open(const std::string& path,
                                                 const std::vector<std::string>& projections,
                                                 bool sync = false);
  ~ViewStore();

  Result<std::optional<std::string>> Get(std::string_view projection, std::string_view key) const;
  // Rows whose key starts with `prefix`, after `after` (exclusive; empty: from the start), in key
  // order, at most `limit`. Cursor pagination passes the last key back as `after`.
  Result<std::vector<ViewRow>> Scan(std::string_view projection, std::string_view prefix,
                                    std::string_view after, size_t limit,
                                    bool reverse = false) const;
  // What readers (Get, Scan) see of a stored row: `show` rewrites it in place (personal values
  // opened, or shown as erased). Set once, before the store is read; projections' own reads
  // (ViewWriter) always see the row as stored.
  void ShowRowsWith(std::function<void(std::string& row)> show);
  // The last log position applied to the projection (0: nothing yet).
  uint64_t Checkpoint(std::string_view projection) const;
  StoreMemory Memory() const;
  // Empties the projection and resets its checkpoint to 0, so it rebuilds from the log's start.
  Status Drop(std::string_view projection);

  // Applies `fill` for the batch, then writes its rows and the new checkpoints atomically.
  class Batch {
   public:
    virtual ~Batch() = default;
    virtual ViewWriter& For(std::string_view projection) = 0;
    virtual void SetCheckpoint(std::string_view projection, uint64_t position) = 0;
  };
  std::unique_ptr<Batch> NewBatch();
  Status Commit(Batch& batch);

 private:
  explicit ViewStore(std::unique_ptr<ViewStoreImpl> impl);
  std::unique_ptr<ViewStoreImpl> impl_;
};

}  // namespace procedo
