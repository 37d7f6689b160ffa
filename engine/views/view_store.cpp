#include "engine/views/view_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <map>
#include <set>

#include "engine/log/codec.h"
#include "engine/base/rocksdb_memory.h"

namespace procedo {

constexpr const char* kCheckpoints = "checkpoints";

// Projections look rows up by key on every event; bloom filters keep a miss (a new stream's
// first event) from reading every level once the view outgrows memory. Every projection shares
// one block cache, and index and filter blocks are charged to it: otherwise RocksDB keeps them
// outside any bound, and they grow with the rows on disk (every closed case and clock).
rocksdb::ColumnFamilyOptions ViewCfOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(BoundedTableOptions(cache, true)));
  return o;
}

class ViewStoreImpl {
 public:
  std::unique_ptr<rocksdb::DB> db;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> cfs;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  bool sync = false;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kViewBlockCacheBytes);

  ~ViewStoreImpl() {
    for (auto& [_, h] : cfs) db->DestroyColumnFamilyHandle(h);
    if (db) db->Close();
  }

  Result<rocksdb::ColumnFamilyHandle*> Cf(std::string_view name) const {
    auto it = cfs.find(name);
    if (it == cfs.end() || name == kCheckpoints || name == rocksdb::kDefaultColumnFamilyName) {
      return Status::NotFound(fmt::format("no projection named '{}'; see `procedo rebuild --help` "
                                          "for the list", name));
    }
    return it->second;
  }
};

namespace {

class BatchImpl;

class WriterImpl final : public ViewWriter {
 public:
  WriterImpl(ViewStoreImpl& s, rocksdb::WriteBatchWithIndex& b, rocksdb::ColumnFamilyHandle* cf)
      : store_(s), batch_(b), cf_(cf) {}
  void Put(std::string_view key, std::string_view value) override {
    batch_.Put(cf_, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  }
  void Delete(std::string_view key) override {
    batch_.Delete(cf_, rocksdb::Slice(key.data(), key.size()));
  }
  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::string v;
    auto s = batch_.GetFromBatchAndDB(store_.db.get(), rocksdb::ReadOptions(), cf_,
                                      rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return Status::IoError("reading a view row failed: " + s.ToString());
    return std::optional<std::string>(std::move(v));
  }

 private:
  ViewStoreImpl& store_;
  rocksdb::WriteBatchWithIndex& batch_;
  rocksdb::ColumnFamilyHandle* cf_;
};

class BatchImpl final : public ViewStore::Batch {
 public:
  explicit BatchImpl(ViewStoreImpl& s) : store_(s), batch_(rocksdb::BytewiseComparator(), 0, true) {}
  ViewWriter& For(std::string_view projection) override {
    auto it = writers_.find(projection);
    if (it != writers_.end()) return *it->second;
    auto cf = store_.Cf(projection);
    if (!cf.ok()) throw std::logic_error(cf.status().message());  // a wiring bug
    auto w = std::make_unique<WriterImpl>(store_, batch_, *cf);
    auto& ref = *w;
    writers_.emplace(std::string(projection), std::move(w));
    return ref;
  }
  void SetCheckpoint(std::string_view projection, uint64_t position) override {
    std::string v;
    codec::PutFixed64BE(&v, position);
    batch_.Put(store_.checkpoints, rocksdb::Slice(projection.data(), projection.size()), v);
  }
  rocksdb::WriteBatch* raw() { return batch_.GetWriteBatch(); }

 private:
  ViewStoreImpl& store_;
  rocksdb::WriteBatchWithIndex batch_;
  std::map<std::string, std::unique_ptr<WriterImpl>, std::less<>> writers_;
};

}  // namespace

ViewStore::ViewStore(std::unique_ptr<ViewStoreImpl> impl) : impl_(std::move(impl)) {}
ViewStore::~ViewStore() = default;

Result<std::unique_ptr<ViewStore>> ViewStore::Open(const std::string& path,
                                                   const std::vector<std::string>& projections,
                                                   bool sync) {
  std::set<std::string> names(projections.begin(), projections.end());
  names.insert(rocksdb::kDefaultColumnFamilyName);
  names.insert(kCheckpoints);
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &existing).ok()) {
    names.insert(existing.begin(), existing.end());
  }
  auto impl = std::make_unique<ViewStoreImpl>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (const auto& n : names) descs.emplace_back(n, ViewCfOptions(impl->cache));
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, path, descs, &handles, &raw);
  if (!s.ok()) {
    return Status::IoError(fmt::format("cannot open the views at '{}' ({}); check the path and "
                                       "that no other procedo process holds it", path, s.ToString()));
  }
  impl->db.reset(raw);
  impl->sync = sync;
  for (auto* h : handles) impl->cfs.emplace(h->GetName(), h);
  impl->checkpoints = impl->cfs.at(kCheckpoints);
  return std::unique_ptr<ViewStore>(new ViewStore(std::move(impl)));
}

Result<std::optional<std::string>> ViewStore::Get(std::string_view projection,
                                                  std::string_view key) const {
  auto cf = impl_->Cf(projection);
  if (!cf.ok()) return cf.status();
  std::string v;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), *cf, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return Status::IoError("reading a view failed: " + s.ToString());
  return std::optional<std::string>(std::move(v));
}

Result<std::vector<ViewRow>> ViewStore::Scan(std::string_view projection, std::string_view prefix,
                                             std::string_view after, size_t limit,
                                             bool reverse) const {
  auto cf = impl_->Cf(projection);
  if (!cf.ok()) return cf.status();
  std::vector<ViewRow> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), *cf));
  auto in_prefix = [&] {
    return it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()));
  };
  if (!reverse) {
    if (after.empty()) it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
    else {
      it->Seek(rocksdb::Slice(after.data(), after.size()));
      if (it->Valid() && it->key() == rocksdb::Slice(after.data(), after.size())) it->Next();
    }
  } else {
    if (after.empty()) {
      std::string end(prefix);
      end.append(8, '\xff');
      it->SeekForPrev(end);
    } else {
      it->SeekForPrev(rocksdb::Slice(after.data(), after.size()));
      if (it->Valid() && it->key() == rocksdb::Slice(after.data(), after.size())) it->Prev();
    }
  }
  while (in_prefix() && out.size() < limit) {
    out.push_back({it->key().ToString(), it->value().ToString()});
    if (reverse) it->Prev(); else it->Next();
  }
  if (!it->status().ok()) return Status::IoError("scanning a view failed: " + it->status().ToString());
  return out;
}

uint64_t ViewStore::Checkpoint(std::string_view projection) const {
  std::string v;
  auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->checkpoints,
                          rocksdb::Slice(projection.data(), projection.size()), &v);
  return s.ok() && v.size() == 8 ? codec::DecodeFixed64BE(v.data()) : 0;
}

Status ViewStore::Drop(std::string_view projection) {
  auto cf = impl_->Cf(projection);
  if (!cf.ok()) return cf.status();
  std::string name(projection);
  auto s = impl_->db->DropColumnFamily(*cf);
  if (s.ok()) {
    impl_->db->DestroyColumnFamilyHandle(*cf);
    impl_->cfs.erase(name);
    rocksdb::ColumnFamilyHandle* fresh = nullptr;
    s = impl_->db->CreateColumnFamily(ViewCfOptions(impl_->cache), name, &fresh);
    if (s.ok()) impl_->cfs.emplace(name, fresh);
  }
  if (s.ok()) s = impl_->db->Delete(rocksdb::WriteOptions(), impl_->checkpoints, name);
  if (!s.ok()) return Status::IoError(fmt::format("dropping projection {} failed: {}", name, s.ToString()));
  return Status::Ok();
}

StoreMemory ViewStore::Memory() const {
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  for (auto& [_, h] : impl_->cfs) cfs.push_back(h);
  return MeasureRocksDb(*impl_->db, cfs);
}

std::unique_ptr<ViewStore::Batch> ViewStore::NewBatch() { return std::make_unique<BatchImpl>(*impl_); }

Status ViewStore::Commit(Batch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = impl_->sync;
  auto s = impl_->db->Write(wo, static_cast<BatchImpl&>(batch).raw());
  if (!s.ok()) return Status::IoError("writing views failed: " + s.ToString());
  return Status::Ok();
}

}  // namespace procedo
