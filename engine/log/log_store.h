// The append-only event log: one writer thread with group commit over RocksDB, reads, and
// subscriptions. Layout and byte forms: engine/README.md.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/base/clock.h"
#include "engine/base/side_table.h"
#include "engine/base/status.h"
#include "engine/base/store_memory.h"
#include "engine/log/event.h"

namespace rocksdb {
class Env;
}

namespace procedo {

class Replicator;

struct LogOptions {
  std::string path;                  // the RocksDB directory
  bool sync = true;                  // fsync the WAL before acknowledging an append
  size_t max_event_bytes = 1 << 20;  // encoded envelope, data included
  size_t max_events_per_append = 10'000;
  size_t max_group_bytes = 32 << 20;      // one group commit's WriteBatch stops growing here
  size_t live_buffer_events = 1 << 16;    // recent events kept for live subscribers
  size_t stream_cache_entries = 1 << 20;  // current versions the writer remembers
  const Clock* clock = &SystemClock::Instance();
  // Where RocksDB reads and writes files; null is the real file system. The durability test puts
  // one here that forgets, at a simulated power loss, whatever was never synced.
  std::shared_ptr<rocksdb::Env> env;
  // A copy outside this process written before each append is acknowledged (replication.h);
  // null: this log is the only copy. Outlives the log.
  Replicator* replicator = nullptr;
};

struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kStreamExists, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion StreamExists() { return {Kind::kStreamExists, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
};

// Events for one more stream, written in the same batch as the request's own: one command, one
// durable write, even when it also takes a number from a counter stream.
struct StreamAppend {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
};

struct AppendRequest {
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
  std::string idempotency_key;  // empty: none
  // All or nothing with the request's own events; they follow them in the log. A conflict on
  // one of them names its stream (Status::conflict_stream()).
  std::vector<StreamAppend> also = {};
  // Rows for the side table (SideTable), written only when the events are: a subject key made
  // for the first event sealed with it is durable exactly when that event is.
  std::vector<SideRow> side_rows = {};
};

using EventPtr = std::shared_ptr<const Event>;

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t stream_version = 0;   // the stream's version after this append
  bool deduplicated = false;     // answered from the idempotency record; nothing appended
  std::vector<EventPtr> events;  // the events of this append, as stored (`also`'s after)
};

enum class Direction { kForward, kBackward };

class LogCore;

// Catch-up from the store, then live events from memory, without polling. A subscriber that
// falls behind the in-memory window silently reads from the store instead; the writer never
// waits for it.
class Subscription {
 public:
  ~Subscription();
  // Up to `max` events from next_position() on. Waits up to `wait` when there are none yet and
  // returns an empty vector on timeout. A Shutdown status when the log closes or Cancel() is
  // called.
  Result<std::vector<EventPtr>> Next(size_t max, std::chrono::milliseconds wait);
  uint64_t next_position() const { return next_; }
  void Cancel();

 private:
  friend class LogStore;
  Subscription(std::shared_ptr<LogCore> core, uint64_t from);
  std::shared_ptr<LogCore> core_;
  uint64_t next_;
  std::atomic<bool> cancelled_{false};
};

class LogStore : public SideTable {
 public:
  static Result<std::unique_ptr<LogStore>> Open(LogOptions options);
  ~LogStore() override;  // finishes queued appends, then closes
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  Result<AppendResult> Append(AppendRequest request);
  // Events exactly as another copy of this log stored them (a standby following its owner's
  // changelog), continuing this log: the first at LastPosition() + 1, each linking to the one
  // before (position, prev_hash, its own hash) and its stream's next version. All are written,
  // or none: Corruption says where this log and the copy part. InvalidArgument while this log
  // writes a copy of its own: the owner of a history does not follow another.
  Result<AppendResult> ApplyCopied(std::vector<std::string> stored);
  // Starts (null: stops) writing the copy outside this process before each append is answered,
  // as LogOptions::replicator does from the start: a standby that has caught up and now owns
  // the log. Appends queued before take effect with the copy they meet.
  void SetReplicator(Replicator* replicator);
  // `done` runs on the writer thread: keep it short and never call Append from it.
  void AppendAsync(AppendRequest request, std::function<void(Result<AppendResult>)> done);

  // Events of a stream from `from_version` (inclusive) in the given direction. Backward from
  // UINT64_MAX starts at the newest event.
  Result<std::vector<Event>> ReadStream(const std::string& stream, uint64_t from_version,
                                        Direction direction, size_t limit) const;
  // Events of the whole log from `from_position` (inclusive), in order.
  Result<std::vector<Event>> ReadAll(uint64_t from_position, size_t limit) const;
  // 0 when the stream does not exist.
  Result<uint64_t> StreamVersion(const std::string& stream) const;
  // What is stored, as stored, for checks that must see the bytes rather than what decodes
  // (engine/log/verify.h): the stream index's positions of `stream` from version 1 (at most
  // `limit`, with their versions), and the stored values at `positions` ("" where there is none).
  Result<std::vector<std::pair<uint64_t, uint64_t>>> StreamIndex(const std::string& stream,
                                                                 size_t limit) const;
  Result<std::vector<std::string>> ReadStored(const std::vector<uint64_t>& positions) const;
  uint64_t LastPosition() const;

  std::unique_ptr<Subscription> Subscribe(uint64_t from_position) const;

  // cache_entries: the stream versions the writer remembers (LogOptions::stream_cache_entries).
  StoreMemory Memory() const;

  const LogOptions& options() const;

  Result<std::optional<std::string>> GetSide(std::string_view key) const override;
  Result<std::vector<SideRow>> ScanSide(std::string_view prefix) const override;
  Status WriteSide(const std::vector<SideRow>& puts,
                   const std::vector<std::string>& deletes) override;
  Status ScrubSide() override;
  void OnSideDurable(std::function<void(const std::vector<SideRow>&)> listener) override;

 private:
  explicit LogStore(std::shared_ptr<LogCore> core);
  std::shared_ptr<LogCore> core_;
};

// Syntax rules of the envelope, shared with the layers that build events.
Status ValidateStreamId(const std::string& stream);
Status ValidateEventType(const std::string& type);
// The aggregate kind of a stream: the part before its first '-' ("case" of "case-forli-1").
std::string StreamKind(const std::string& stream);

}  // namespace procedo
