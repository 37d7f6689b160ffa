#include "engine/log/log_store.h"

#include <fmt/format.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <future>

#include "engine/base/rocksdb_memory.h"
#include "engine/log/codec.h"
#include "engine/log/log_core.h"

namespace procedo {

// ---- LogCore: storage ------------------------------------------------------------------------

namespace {

// The stream index's keys are "<stream>\0<version, 8 bytes big-endian>" and are only ever read
// one stream at a time: a bloom filter over the "<stream>\0" part lets a seek skip every table
// that holds nothing of the stream, which a cold read (the state of a stream not in any cache,
// its version for the writer's check) would otherwise search level by level.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "procedo.StreamIndexPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* end = memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(), static_cast<const char*>(end) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

}  // namespace

LogCore::~LogCore() {
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  handles.clear();
  if (db) db->Close();
}

Status LogCore::OpenDb() {
  rocksdb::Options dbo;
  if (options.env) dbo.env = options.env.get();
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.IncreaseParallelism(2);
  // Compactions (the low-priority pool of the process's environment, the views' too) run niced:
  // on two cores they would otherwise take a core from the writer and the reactors just when a
  // burst (a due instant's breaches) is being answered. Flushes keep their priority, and
  // compactions still get every idle cycle.
  (void)dbo.env->LowerThreadPoolCPUPriority(rocksdb::Env::LOW, rocksdb::CpuPriority::kLow);
  // No archive and no reuse of write-ahead files: once every memory table is flushed, the files
  // that held a deleted side row (an erased subject key) are deleted, not kept or overwritten.
  dbo.WAL_ttl_seconds = 0;
  dbo.WAL_size_limit_MB = 0;
  dbo.recycle_log_file_num = 0;
  // One block cache for the whole log, index and filter blocks included: what the log holds in
  // memory stays bounded however long it grows (rocksdb_memory.h).
  auto cache = rocksdb::NewLRUCache(kLogBlockCacheBytes);
  rocksdb::ColumnFamilyOptions plain;
  plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(BoundedTableOptions(cache, false)));
  // Events are written once and read in order: LZ4 flushes them at a fraction of Snappy's CPU,
  // which the writer shares with on two cores; the bottom level, where they stay, gets zstd.
  rocksdb::ColumnFamilyOptions events = plain;
  events.compression = rocksdb::kLZ4Compression;
  events.bottommost_compression = rocksdb::kZSTD;
  rocksdb::ColumnFamilyOptions point_lookups;
  point_lookups.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(BoundedTableOptions(cache, true)));
  // The side table (subject keys) takes rows with random keys, a few per command, and is read
  // mostly for rows it has not got: a small memory table keeps the writer's inserts in cache,
  // and a bloom filter over it answers a miss without a search.
  rocksdb::ColumnFamilyOptions side = point_lookups;
  side.write_buffer_size = 8 << 20;
  side.memtable_whole_key_filtering = true;
  side.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::ColumnFamilyOptions streams = point_lookups;
  streams.prefix_extractor = std::make_shared<StreamPrefix>();
  streams.memtable_prefix_bloom_size_ratio = 0.02;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, plain},
      {"events", events},
      {"streams", streams},
      {"idempotency", point_lookups},
      {"side", side},
  };
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(dbo, options.path, cfs, &handles, &raw);
  if (!s.ok()) {
    return Status::IoError(fmt::format(
        "cannot open the event log at '{}' ({}); check the path and that no other procedo "
        "process holds it",
        options.path, s.ToString()));
  }
  db.reset(raw);
  cf_events = handles[1];
  cf_streams = handles[2];
  cf_idempotency = handles[3];
  cf_side = handles[4];

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf_events));
  it->SeekToLast();
  if (it->Valid()) {
    auto last = codec::DecodeEvent(std::string_view(it->value().data(), it->value().size()));
    if (!last.ok()) {
      return Status::Corruption(fmt::format(
          "the newest event of the log at '{}' does not decode ({}); run 'procedo verify'",
          options.path, last.status().message()));
    }
    next_position_ = last->position + 1;
    last_hash_ = last->hash;
    last_time_ = last->time;
  }
  last_position.store(next_position_ - 1);
  ring.assign(std::max<size_t>(options.live_buffer_events, 16), nullptr);
  ring_first = next_position_;
  return Status::Ok();
}

Result<uint64_t> LogCore::LoadStreamVersion(const std::string& stream) const {
  const std::string prefix = codec::StreamIndexPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf_streams));
  it->SeekForPrev(codec::StreamIndexKey(stream, UINT64_MAX));
  if (!it->status().ok())
    return Status::IoError("reading the stream index failed: " + it->status().ToString());
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return uint64_t{0};
  }
  return codec::DecodeFixed64BE(it->key().data() + prefix.size());
}

Result<uint64_t> LogCore::CurrentStreamVersion(const std::string& stream) const {
  if (auto known = versions.Find(stream)) return *known;
  const uint64_t epoch = versions.Epoch(stream);
  auto loaded = LoadStreamVersion(stream);
  if (loaded.ok() && *loaded > 0) versions.Remember(stream, *loaded, epoch);
  return loaded;
}

Result<std::vector<Event>> LogCore::ReadRange(uint64_t from, size_t limit) const {
  std::vector<Event> out;
  if (limit == 0) return out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf_events));
  for (it->Seek(codec::PositionKey(from)); it->Valid() && out.size() < limit; it->Next()) {
    auto e = codec::DecodeEvent(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) {
      return Status::Corruption(fmt::format("event at key position {} does not decode: {}",
                                            codec::DecodeFixed64BE(it->key().data()),
                                            e.status().message()));
    }
    out.push_back(std::move(e).value());
  }
  if (!it->status().ok())
    return Status::IoError("reading the log failed: " + it->status().ToString());
  return out;
}

// ---- LogStore ----------------------------------------------------------------------------------

LogStore::LogStore(std::shared_ptr<LogCore> core) : core_(std::move(core)) {}

LogStore::~LogStore() {
  core_->Stop();
}

Result<std::unique_ptr<LogStore>> LogStore::Open(LogOptions options) {
  if (options.path.empty()) return Status::InvalidArgument("the log needs a directory path");
  if (options.clock == nullptr) return Status::InvalidArgument("the log needs a clock");
  auto core = std::make_shared<LogCore>(std::move(options));
  if (Status s = core->OpenDb(); !s.ok()) return s;
  core->StartWriter();
  return std::unique_ptr<LogStore>(new LogStore(std::move(core)));
}

const LogOptions& LogStore::options() const {
  return core_->options;
}

StoreMemory LogStore::Memory() const {
  StoreMemory m = MeasureRocksDb(*core_->db, core_->handles);
  m.cache_entries = core_->versions.size();
  return m;
}

void LogStore::AppendAsync(AppendRequest request, std::function<void(Result<AppendResult>)> done) {
  auto p = std::make_unique<PendingAppend>();
  p->request = std::move(request);
  p->done = std::move(done);
  if (Status s = PrepareAppend(core_->options, p.get()); !s.ok()) {
    p->done(std::move(s));
    return;
  }
  core_->Enqueue(std::move(p));
}

Result<AppendResult> LogStore::Append(AppendRequest request) {
  SyncWaiter waiter;
  auto p = std::make_unique<PendingAppend>();
  p->request = std::move(request);
  p->waiter = &waiter;
  if (Status s = PrepareAppend(core_->options, p.get()); !s.ok()) return s;
  core_->Enqueue(std::move(p));
  return core_->Wait(waiter);
}

Result<AppendResult> LogStore::ApplyCopied(std::vector<std::string> stored) {
  if (stored.empty()) return Status::InvalidArgument("no events to apply: give at least one");
  SyncWaiter waiter;
  auto p = std::make_unique<PendingAppend>();
  for (const auto& value : stored) p->bytes += value.size();
  p->copied = std::move(stored);
  p->waiter = &waiter;
  core_->Enqueue(std::move(p));
  return core_->Wait(waiter);
}

void LogStore::SetReplicator(Replicator* replicator) {
  core_->replicator.store(replicator);
}

Result<std::vector<Event>> LogStore::ReadStream(const std::string& stream, uint64_t from_version,
                                                Direction direction, size_t limit) const {
  if (Status s = ValidateStreamId(stream); !s.ok()) return s;
  const std::string prefix = codec::StreamIndexPrefix(stream);
  std::vector<std::string> keys;
  const uint64_t epoch = core_->versions.Epoch(stream);
  uint64_t last_version = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db->NewIterator(rocksdb::ReadOptions(), core_->cf_streams));
  if (direction == Direction::kForward) {
    it->Seek(codec::StreamIndexKey(stream, from_version));
  } else {
    it->SeekForPrev(codec::StreamIndexKey(stream, from_version));
  }
  while (it->Valid() && keys.size() < limit && it->key().starts_with(prefix) &&
         it->key().size() == prefix.size() + 8) {
    keys.emplace_back(it->value().data(), it->value().size());
    last_version = codec::DecodeFixed64BE(it->key().data() + prefix.size());
    if (direction == Direction::kForward)
      it->Next();
    else
      it->Prev();
  }
  if (!it->status().ok())
    return Status::IoError("reading the stream index failed: " + it->status().ToString());
  // Read forward to the end: the newest version is known, and the writer need not seek it again
  // when the command that read the stream appends to it.
  const bool to_end = !it->Valid() || !it->key().starts_with(prefix);
  if (direction == Direction::kForward && to_end && last_version > 0) {
    core_->versions.Remember(stream, last_version, epoch);
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), core_->cf_events);
  std::vector<std::string> values;
  auto statuses = core_->db->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
  std::vector<Event> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!statuses[i].ok()) {
      return Status::Corruption(fmt::format(
          "stream {} lists position {} but the event is missing ({}); run 'procedo verify'", stream,
          codec::DecodeFixed64BE(keys[i].data()), statuses[i].ToString()));
    }
    auto e = codec::DecodeEvent(values[i]);
    if (!e.ok()) return e.status();
    out.push_back(std::move(e).value());
  }
  return out;
}

Result<std::vector<Event>> LogStore::ReadAll(uint64_t from_position, size_t limit) const {
  return core_->ReadRange(std::max<uint64_t>(from_position, 1), limit);
}

Result<uint64_t> LogStore::StreamVersion(const std::string& stream) const {
  if (Status s = ValidateStreamId(stream); !s.ok()) return s;
  return core_->CurrentStreamVersion(stream);
}

Result<std::vector<std::pair<uint64_t, uint64_t>>> LogStore::StreamIndex(const std::string& stream,
                                                                         size_t limit) const {
  if (Status s = ValidateStreamId(stream); !s.ok()) return s;
  const std::string prefix = codec::StreamIndexPrefix(stream);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db->NewIterator(rocksdb::ReadOptions(), core_->cf_streams));
  for (it->Seek(prefix); it->Valid() && out.size() < limit && it->key().starts_with(prefix);
       it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    const uint64_t position =
        it->value().size() == 8 ? codec::DecodeFixed64BE(it->value().data()) : 0;
    out.emplace_back(codec::DecodeFixed64BE(it->key().data() + prefix.size()), position);
  }
  if (!it->status().ok()) {
    return Status::IoError("reading the stream index failed: " + it->status().ToString());
  }
  return out;
}

Result<std::vector<std::string>> LogStore::ReadStored(
    const std::vector<uint64_t>& positions) const {
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (uint64_t p : positions) keys.push_back(codec::PositionKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), core_->cf_events);
  std::vector<std::string> values;
  auto statuses = core_->db->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      values[i].clear();
    } else if (!statuses[i].ok()) {
      return Status::IoError("reading the log failed: " + statuses[i].ToString());
    }
  }
  return values;
}

uint64_t LogStore::LastPosition() const {
  return core_->last_position.load(std::memory_order_acquire);
}

std::unique_ptr<Subscription> LogStore::Subscribe(uint64_t from_position) const {
  return std::unique_ptr<Subscription>(
      new Subscription(core_, std::max<uint64_t>(from_position, 1)));
}

// ---- the side table ----------------------------------------------------------------------------

Result<std::optional<std::string>> LogStore::GetSide(std::string_view key) const {
  std::string value;
  auto s = core_->db->Get(rocksdb::ReadOptions(), core_->cf_side, key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::IoError("reading the log's side table failed: " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<SideRow>> LogStore::ScanSide(std::string_view prefix) const {
  std::vector<SideRow> out;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db->NewIterator(rocksdb::ReadOptions(), core_->cf_side));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.push_back({it->key().ToString(), it->value().ToString()});
  }
  if (!it->status().ok()) {
    return Status::IoError("reading the log's side table failed: " + it->status().ToString());
  }
  return out;
}

Status LogStore::WriteSide(const std::vector<SideRow>& puts,
                           const std::vector<std::string>& deletes) {
  rocksdb::WriteBatch batch;
  for (const auto& d : deletes) batch.Delete(core_->cf_side, d);
  for (const auto& p : puts) batch.Put(core_->cf_side, p.key, p.value);
  if (batch.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = core_->db->Write(wo, &batch); !s.ok()) {
    return Status::IoError("writing the log's side table failed: " + s.ToString());
  }
  return Status::Ok();
}

Status LogStore::ScrubSide() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = core_->db->Flush(fo, core_->handles); !s.ok()) {
    return Status::IoError("flushing the log after a deletion failed: " + s.ToString());
  }
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto s = core_->db->CompactRange(co, core_->cf_side, nullptr, nullptr); !s.ok()) {
    return Status::IoError("compacting the log's side table failed: " + s.ToString());
  }
  return Status::Ok();
}

void LogStore::OnSideDurable(std::function<void(const std::vector<SideRow>&)> listener) {
  std::lock_guard lock(core_->side_mu);
  core_->side_durable = std::move(listener);
}

}  // namespace procedo
