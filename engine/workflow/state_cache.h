// Where folded states are kept so that a command does not replay its stream: an LRU cache in
// memory and, for long streams, snapshots that survive a restart.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

namespace procedo {

using StatePtr = std::shared_ptr<const WorkflowState>;

// Sharded so that concurrent commands on different streams rarely share a lock.
class StateCache {
 public:
  explicit StateCache(size_t capacity, size_t shards = 16);
  StatePtr Get(const std::string& stream);
  // Keeps the newer of the cached and the given state: a slow thread never rolls a stream back.
  void Put(StatePtr state);
  void Erase(const std::string& stream);
  // Drops `state` when it is still the stream's cached entry, so that its owner may change it in
  // place (see CommandHandler::Remember); a newer entry stays.
  void EraseIfCurrent(const StatePtr& state);
  uint64_t hits() const { return hits_.load(); }
  uint64_t misses() const { return misses_.load(); }

 private:
  struct Shard {
    std::mutex mu;
    std::list<StatePtr> lru;  // most recent first
    std::unordered_map<std::string, std::list<StatePtr>::iterator> index;
  };
  Shard& ShardFor(const std::string& stream);
  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> hits_{0}, misses_{0};
};

struct Snapshot {
  std::string fingerprint;  // the workflow definition it was folded with
  WorkflowState state;
};

// The latest snapshot of each stream.
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  virtual Status Put(const Snapshot& snapshot) = 0;
  // NotFound when the stream has none.
  virtual Result<Snapshot> Latest(const std::string& stream) const = 0;
};

std::unique_ptr<SnapshotStore> NewMemorySnapshotStore();
// A RocksDB database of its own at `path` (created when missing). Snapshots are a cache of the
// log: deleting the directory loses nothing.
Result<std::unique_ptr<SnapshotStore>> OpenRocksDbSnapshotStore(const std::string& path);

}  // namespace procedo
