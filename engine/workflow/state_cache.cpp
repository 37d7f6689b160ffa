#include "engine/workflow/state_cache.h"

#include <fmt/format.h>
#include <rocksdb/db.h>

#include <functional>
#include <map>

namespace procedo {

StateCache::StateCache(size_t capacity, size_t shards)
    : per_shard_(std::max<size_t>(1, capacity / std::max<size_t>(1, shards))) {
  for (size_t i = 0; i < std::max<size_t>(1, shards); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

StateCache::Shard& StateCache::ShardFor(const std::string& stream) {
  return *shards_[std::hash<std::string>{}(stream) % shards_.size()];
}

StatePtr StateCache::Get(const std::string& stream) {
  Shard& s = ShardFor(stream);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(stream);
  if (it == s.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return *it->second;
}

void StateCache::Put(StatePtr state) {
  Shard& s = ShardFor(state->stream);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(state->stream);
  if (it != s.index.end()) {
    if ((*it->second)->version > state->version) return;
    *it->second = std::move(state);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.push_front(state);
  s.index.emplace(state->stream, s.lru.begin());
  while (s.lru.size() > per_shard_) {
    s.index.erase(s.lru.back()->stream);
    s.lru.pop_back();
  }
}

void StateCache::Erase(const std::string& stream) {
  Shard& s = ShardFor(stream);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(stream);
  if (it == s.index.end()) return;
  s.lru.erase(it->second);
  s.index.erase(it);
}

void StateCache::EraseIfCurrent(const StatePtr& state) {
  Shard& s = ShardFor(state->stream);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(state->stream);
  if (it == s.index.end() || *it->second != state) return;
  s.lru.erase(it->second);
  s.index.erase(it);
}

namespace {

std::string Encode(const Snapshot& s) {
  return nlohmann::json{{"fingerprint", s.fingerprint}, {"state", s.state.ToJson()}}.dump();
}

Result<Snapshot> Decode(const std::string& stream, const std::string& bytes) {
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  try {
    if (!j.is_discarded()) {
      return Snapshot{j.at("fingerprint").get<std::string>(),
                      WorkflowState::FromJson(j.at("state"))};
    }
  } catch (const nlohmann::json::exception&) {
  }
  return Status::Corruption(fmt::format(
      "the snapshot of {} does not decode; delete the snapshot directory, it is rebuilt from the "
      "log",
      stream));
}

class MemorySnapshotStore final : public SnapshotStore {
 public:
  Status Put(const Snapshot& s) override {
    std::lock_guard lock(mu_);
    map_[s.state.stream] = Encode(s);  // encoded, as on disk, so tests exercise the same path
    return Status::Ok();
  }
  Result<Snapshot> Latest(const std::string& stream) const override {
    std::lock_guard lock(mu_);
    auto it = map_.find(stream);
    if (it == map_.end()) return Status::NotFound("no snapshot of " + stream);
    return Decode(stream, it->second);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> map_;
};

class RocksDbSnapshotStore final : public SnapshotStore {
 public:
  explicit RocksDbSnapshotStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
  Status Put(const Snapshot& s) override {
    auto st = db_->Put(rocksdb::WriteOptions(), s.state.stream, Encode(s));
    if (!st.ok()) return Status::IoError("writing a snapshot failed: " + st.ToString());
    return Status::Ok();
  }
  Result<Snapshot> Latest(const std::string& stream) const override {
    std::string value;
    auto st = db_->Get(rocksdb::ReadOptions(), stream, &value);
    if (st.IsNotFound()) return Status::NotFound("no snapshot of " + stream);
    if (!st.ok()) return Status::IoError("reading a snapshot failed: " + st.ToString());
    return Decode(stream, value);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<SnapshotStore> NewMemorySnapshotStore() {
  return std::make_unique<MemorySnapshotStore>();
}

Result<std::unique_ptr<SnapshotStore>> OpenRocksDbSnapshotStore(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(options, path, &raw);
  if (!st.ok()) {
    return Status::IoError(
        fmt::format("cannot open the snapshot store at {}: {}", path, st.ToString()));
  }
  return std::unique_ptr<SnapshotStore>(
      std::make_unique<RocksDbSnapshotStore>(std::unique_ptr<rocksdb::DB>(raw)));
}

}  // namespace procedo
