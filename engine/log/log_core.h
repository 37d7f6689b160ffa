// Private to engine/: the shared state behind LogStore and its Subscriptions.
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "engine/log/log_store.h"
#include "engine/log/stream_versions.h"
#include "engine/log/uuid.h"

namespace procedo {

// Where a caller of the synchronous Append waits: the writer fills in the outcome, and wakes all
// the callers of a group with one broadcast instead of one wake-up call (and one lock) each.
struct SyncWaiter {
  std::optional<Result<AppendResult>> outcome;  // written before `ready`
  std::atomic<bool> ready{false};
};

struct PendingAppend {
  AppendRequest request;
  std::function<void(Result<AppendResult>)> done;  // AppendAsync
  SyncWaiter* waiter = nullptr;                    // Append
  Hash fingerprint{};  // of stream, types and data; set when there is an idempotency key
  size_t bytes = 0;
  // LogStore::ApplyCopied: events as another copy of the log stored them, in place of `request`.
  std::vector<std::string> copied;
};

// Checks and canonicalises a request on the caller's thread, so the writer only sequences.
Status PrepareAppend(const LogOptions& options, PendingAppend* pending);

class LogCore {
 public:
  explicit LogCore(LogOptions opts)
      : options(std::move(opts)),
        replicator(options.replicator),
        versions(options.stream_cache_entries),
        uuids(*options.clock) {}
  ~LogCore();

  Status OpenDb();
  void StartWriter();
  void Stop();  // drains the queue, stops the writer, wakes subscribers

  void Enqueue(std::unique_ptr<PendingAppend> pending);
  // Hands `p` its outcome: its callback, or its waiting caller (woken by WakeWaiters).
  void Complete(PendingAppend& p, Result<AppendResult> outcome);
  void WakeWaiters();
  // Waits for the writer to fill in `w`.
  Result<AppendResult> Wait(SyncWaiter& w);
  Result<uint64_t> LoadStreamVersion(const std::string& stream) const;
  // The known version when the writer has it, else the stream index's.
  Result<uint64_t> CurrentStreamVersion(const std::string& stream) const;
  Result<std::vector<Event>> ReadRange(uint64_t from, size_t limit) const;

  LogOptions options;
  // options.replicator at first; LogStore::SetReplicator changes it. Read once per group.
  std::atomic<Replicator*> replicator;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* cf_events = nullptr;
  rocksdb::ColumnFamilyHandle* cf_streams = nullptr;
  rocksdb::ColumnFamilyHandle* cf_idempotency = nullptr;
  rocksdb::ColumnFamilyHandle* cf_side = nullptr;
  // Told of each durable batch's side rows (SideTable::OnSideDurable), guarded by side_mu.
  std::mutex side_mu;
  std::function<void(const std::vector<SideRow>&)> side_durable;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  std::atomic<int> completions{0};  // bumped once per answered group; waiters sleep on it

  // Live window for subscribers, guarded by live_mu.
  mutable std::mutex live_mu;
  std::condition_variable live_cv;
  std::vector<EventPtr> ring;
  uint64_t ring_first = 1;  // lowest position still in the ring
  bool closed = false;
  std::atomic<uint64_t> last_position{0};
  // Set by the writer after each committed group; readers may add what they read (a cache).
  mutable StreamVersions versions;

 private:
  void WriterLoop();
  void ProcessGroup(std::vector<std::unique_ptr<PendingAppend>>& group);
  // A stream's version as the group being built leaves it so far.
  Result<uint64_t> VersionInGroup(const std::string& stream,
                                  const std::unordered_map<std::string, uint64_t>& local_versions);
  // A copied item's events (PendingAppend::copied) into the batch when every one of them links
  // on from `pos` and `prev`; nothing of them when one does not. Advances the group's state.
  Result<AppendResult> StageCopied(std::vector<std::string>& copied, rocksdb::WriteBatch& batch,
                                   uint64_t& pos, Hash& prev, TimePoint& t_last,
                                   std::unordered_map<std::string, uint64_t>& local_versions,
                                   std::vector<EventPtr>& published);
  void Publish(const std::vector<EventPtr>& events);

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingAppend>> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // Owned by the writer thread.
  UuidV7Generator uuids;
  uint64_t next_position_ = 1;
  Hash last_hash_{};
  TimePoint last_time_{};
  Status failure_;  // a failed write poisons the writer: later appends get this error
};

}  // namespace procedo
