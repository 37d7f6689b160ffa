// Private to engine/: the current version of recently written or read streams, shared between the
// writer (which sets it after each committed group) and readers asking
// LogStore::StreamVersion, so that the command path's "is my cached state current?" check costs
// a hash lookup instead of a RocksDB iterator seek. A miss means "not known", never "version 0":
// the caller then reads the stream index.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procedo {

class StreamVersions {
 public:
  explicit StreamVersions(size_t capacity) : per_shard_(capacity / kShards + 1) {}

  std::optional<uint64_t> Find(std::string_view stream) const {
    const Shard& s = shards_[ShardOf(stream)];
    std::lock_guard lock(s.mu);
    auto it = s.versions.find(stream);
    if (it == s.versions.end()) return std::nullopt;
    return it->second;
  }

  size_t size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.versions.size();
    }
    return n;
  }

  // Called by the writer once the versions are durable, before the appenders are answered, so an
  // appender's next read sees its own write.
  void Set(const std::string& stream, uint64_t version) {
    Shard& s = shards_[ShardOf(stream)];
    std::lock_guard lock(s.mu);
    ++s.sets;
    // Dropping a whole shard keeps the bound without LRU bookkeeping; a dropped stream costs one
    // index seek on its next use.
    if (s.versions.size() >= per_shard_ && !s.versions.contains(stream)) s.versions.clear();
    s.versions.insert_or_assign(stream, version);
  }

  // A reader that read a stream's version from the stream index may keep it for the writer and
  // the others, so that a stream read cold is not sought again at its append. Safe only if no
  // Set reached the stream's shard since before the read: take Epoch first, read, then Remember,
  // which keeps nothing when a write may have overtaken the read (it would store an old version)
  // and never evicts for it.
  uint64_t Epoch(std::string_view stream) const {
    const Shard& s = shards_[ShardOf(stream)];
    std::lock_guard lock(s.mu);
    return s.sets;
  }
  void Remember(std::string_view stream, uint64_t version, uint64_t epoch) {
    Shard& s = shards_[ShardOf(stream)];
    std::lock_guard lock(s.mu);
    if (s.sets != epoch || s.versions.size() >= per_shard_) return;
    s.versions.emplace(std::string(stream), version);
  }

 private:
  static constexpr size_t kShards = 64;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> versions;
    uint64_t sets = 0;  // Set calls so far
  };
  static size_t ShardOf(std::string_view stream) {
    return std::hash<std::string_view>{}(stream) % kShards;
  }

  size_t per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace procedo
