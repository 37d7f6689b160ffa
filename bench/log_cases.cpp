// append-1/16/64, append-batch and replay: the engine's log against raw RocksDB doing the same
// physical work in the same run.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "bench/bench_util.h"
#include "bench/cases.h"
#include "engine/log/codec.h"
#include "engine/log/log_store.h"

namespace procedo::bench {
namespace {

std::unique_ptr<LogStore> OpenLog(const std::string& path, bool sync) {
  LogOptions o;
  o.path = path;
  o.sync = sync;
  auto r = LogStore::Open(o);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

std::unique_ptr<rocksdb::DB> OpenRaw(const std::string& path) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(o, path, &db);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return std::unique_ptr<rocksdb::DB>(db);
}

NewEvent MakeEvent(uint64_t i) {
  return NewEvent{"case.started", Payload(i), "comune-forli",
                  R"({"id":"op1","role":"operator"})", "", "", std::nullopt};
}

// The bytes the engine stores for one event, so the baseline writes the same amount.
std::string StoredBytes(uint64_t i) {
  Event e;
  e.stream = "case-forli-" + std::to_string(i);
  e.type = "case.started";
  e.tenant = "comune-forli";
  e.actor = R"({"id":"op1","role":"operator"})";
  e.data = Payload(i);
  return codec::EncodeEvent(e);
}

double RawAppend(int threads, const Limits& limits) {
  ScratchDir dir("raw-append");
  auto db = OpenRaw(dir.path());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::vector<std::string> values;
  for (int t = 0; t < threads; ++t) values.push_back(StoredBytes(t));
  return RunThreads(threads, limits, [&](int t, uint64_t i) -> uint64_t {
    std::string key = fmt::format("{:04d}{:016d}", t, i);
    auto s = db->Put(wo, key, values[t]);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    return 1;
  });
}

double EngineAppend(int threads, const Limits& limits) {
  ScratchDir dir("log-append");
  auto log = OpenLog(dir.path(), true);
  return RunThreads(threads, limits, [&](int t, uint64_t i) -> uint64_t {
    AppendRequest r{"case-forli-" + std::to_string(t), ExpectedVersion::Exact(i == 0 ? 0 : i),
                    {MakeEvent(i)}, ""};
    if (i == 0) r.expected = ExpectedVersion::NoStream();
    auto res = log->Append(std::move(r));
    if (!res.ok()) throw std::runtime_error(res.status().ToString());
    return 1;
  });
}

}  // namespace

int AppendCase(const std::string& name, int threads, const Limits& limits) {
  double baseline = limits.skip_baseline ? 0 : RawAppend(threads, limits);
  double value = EngineAppend(threads, limits);
  PrintResult(name, value, baseline);
  return 0;
}

int AppendBatchCase(const Limits& limits) {
  constexpr int kBatch = 256;
  double baseline = 0;
  if (!limits.skip_baseline) {
    ScratchDir dir("raw-batch");
    auto db = OpenRaw(dir.path());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    std::string value = StoredBytes(1);
    baseline = RunThreads(1, limits, [&](int, uint64_t i) -> uint64_t {
      rocksdb::WriteBatch b;
      for (int k = 0; k < kBatch; ++k) b.Put(fmt::format("{:016d}", i * kBatch + k), value);
      auto s = db->Write(wo, &b);
      if (!s.ok()) throw std::runtime_error(s.ToString());
      return kBatch;
    });
  }
  ScratchDir dir("log-batch");
  auto log = OpenLog(dir.path(), true);
  double value = RunThreads(1, limits, [&](int, uint64_t i) -> uint64_t {
    AppendRequest r{"import-" + std::to_string(i), ExpectedVersion::NoStream(), {}, ""};
    r.events.reserve(kBatch);
    for (int k = 0; k < kBatch; ++k) r.events.push_back(MakeEvent(i * kBatch + k));
    auto res = log->Append(std::move(r));
    if (!res.ok()) throw std::runtime_error(res.status().ToString());
    return kBatch;
  });
  PrintResult("append-batch", value, baseline);
  return 0;
}

int ReplayCase(const Limits& limits) {
  ScratchDir dir("replay");
  const std::string path = dir.path() + "/log";
  const uint64_t total = std::min<uint64_t>(limits.max_events, 1'000'000);
  {
    auto log = OpenLog(path, false);  // loading the fixture is not what is measured
    for (uint64_t i = 0; i < total; i += 1000) {
      AppendRequest r{"case-forli-" + std::to_string(i), ExpectedVersion::Any(), {}, ""};
      for (uint64_t k = i; k < std::min(total, i + 1000); ++k) r.events.push_back(MakeEvent(k));
      if (!log->Append(std::move(r)).ok()) throw std::runtime_error("fixture append failed");
    }
  }
  // Baseline: a raw iterator over the same keys of the same column family, decoding each value
  // into an event as the log's read does (without decoding it measured a copy-free scan, which no
  // reader of the log can use).
  double baseline = 0;
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"events", {}}, {"streams", {}}, {"idempotency", {}}};
    auto s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &h, &raw);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    auto start = std::chrono::steady_clock::now();
    uint64_t n = 0, bytes = 0;
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), h[1]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto e = codec::DecodeEvent(std::string_view(it->value().data(), it->value().size()));
      if (!e.ok()) throw std::runtime_error(e.status().ToString());
      bytes += e->data.size();
      ++n;
    }
    baseline = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    it.reset();
    for (auto* c : h) raw->DestroyColumnFamilyHandle(c);
    delete raw;
    if (n != total || bytes == 0) throw std::runtime_error("baseline saw the wrong number of events");
  }
  auto log = OpenLog(path, false);
  auto start = std::chrono::steady_clock::now();
  uint64_t n = 0, next = 1;
  for (;;) {
    auto page = log->ReadAll(next, 4096);
    if (!page.ok()) throw std::runtime_error(page.status().ToString());
    if (page->empty()) break;
    n += page->size();
    next = page->back().position + 1;
  }
  double value = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (n != total) throw std::runtime_error("replay saw the wrong number of events");
  PrintResult("replay", value, baseline);
  return 0;
}

}  // namespace procedo::bench
