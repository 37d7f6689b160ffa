#include "engine/views/view_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <optional>
#include <set>

#include "engine/base/rocksdb_memory.h"
#include "engine/log/codec.h"

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
  std::function<void(std::string&)> show;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kViewBlockCacheBytes);

  ~ViewStoreImpl() {
    for (auto& [_, h] : cfs) db->DestroyColumnFamilyHandle(h);
    if (db) db->Close();
  }

  Result<rocksdb::ColumnFamilyHandle*> Cf(std::string_view name) const {
    auto it = cfs.find(name);
    if (it == cfs.end() || name == kCheckpoints || name == rocksdb::kDefaultColumnFamilyName) {
      return Status::NotFound(
          fmt::format("no projection named '{}'; see `procedo rebuild --help` "
                      "for the list",
                      name));
    }
    return it->second;
  }
};

namespace {

// A batch's rows, one value per key until it is committed: a projection that updates the same
// row for every event of a long stream (a case's summary, a counter) writes it once per batch,
// not once per event, so that the write volume does not grow with the batch's events on one row.
// A row read as JSON stays parsed for the rest of the batch, and one put as JSON is dumped only
// at commit.
struct OverlayRow {
  enum class Kind { kText, kJson, kDeleted };
  Kind kind = Kind::kText;
  bool dirty = false;  // written by the batch (a row only read as JSON is not written back)
  std::string text;
  nlohmann::json doc;
};

Status NotJson() {
  return Status::Corruption("a view row is not JSON; drop and rebuild the projection");
}

class WriterImpl final : public ViewWriter {
 public:
  WriterImpl(ViewStoreImpl& s, rocksdb::ColumnFamilyHandle* cf) : store_(s), cf_(cf) {}
  void Put(std::string_view key, std::string_view value) override {
    OverlayRow& row = Slot(key);
    row.kind = OverlayRow::Kind::kText;
    row.dirty = true;
    row.text.assign(value);
    row.doc = nullptr;
  }
  void Delete(std::string_view key) override {
    OverlayRow& row = Slot(key);
    row.kind = OverlayRow::Kind::kDeleted;
    row.dirty = true;
    row.text.clear();
    row.doc = nullptr;
  }
  Result<std::optional<std::string>> Get(std::string_view key) override {
    if (auto it = rows_.find(key); it != rows_.end()) {
      switch (it->second.kind) {
        case OverlayRow::Kind::kDeleted:
          return std::optional<std::string>();
        case OverlayRow::Kind::kText:
          return std::optional<std::string>(it->second.text);
        case OverlayRow::Kind::kJson:
          return std::optional<std::string>(it->second.doc.dump());
      }
    }
    return Stored(key);
  }
  Result<std::optional<nlohmann::json>> GetJson(std::string_view key) override {
    auto it = rows_.find(key);
    if (it == rows_.end()) {
      auto stored = Stored(key);
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) return std::optional<nlohmann::json>();
      nlohmann::json doc = nlohmann::json::parse(**stored, nullptr, false);
      if (doc.is_discarded()) return NotJson();
      OverlayRow row;
      row.kind = OverlayRow::Kind::kJson;
      row.doc = doc;
      rows_.emplace(std::string(key), std::move(row));
      return std::optional<nlohmann::json>(std::move(doc));
    }
    OverlayRow& row = it->second;
    if (row.kind == OverlayRow::Kind::kDeleted) return std::optional<nlohmann::json>();
    if (row.kind == OverlayRow::Kind::kText) {
      nlohmann::json doc = nlohmann::json::parse(row.text, nullptr, false);
      if (doc.is_discarded()) return NotJson();
      row.kind = OverlayRow::Kind::kJson;
      row.doc = std::move(doc);
      row.text.clear();
    }
    return std::optional<nlohmann::json>(row.doc);
  }
  void PutJson(std::string_view key, nlohmann::json value) override {
    OverlayRow& row = Slot(key);
    row.kind = OverlayRow::Kind::kJson;
    row.dirty = true;
    row.text.clear();
    row.doc = std::move(value);
  }
  void WriteTo(rocksdb::WriteBatch& out) const {
    for (const auto& [key, row] : rows_) {
      if (!row.dirty) continue;
      switch (row.kind) {
        case OverlayRow::Kind::kText:
          out.Put(cf_, key, row.text);
          break;
        case OverlayRow::Kind::kJson:
          out.Put(cf_, key, row.doc.dump());
          break;
        case OverlayRow::Kind::kDeleted:
          out.Delete(cf_, key);
          break;
      }
    }
  }

 private:
  OverlayRow& Slot(std::string_view key) {
    auto it = rows_.find(key);
    if (it == rows_.end()) it = rows_.emplace(std::string(key), OverlayRow{}).first;
    return it->second;
  }
  Result<std::optional<std::string>> Stored(std::string_view key) const {
    std::string v;
    auto s =
        store_.db->Get(rocksdb::ReadOptions(), cf_, rocksdb::Slice(key.data(), key.size()), &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return Status::IoError("reading a view row failed: " + s.ToString());
    return std::optional<std::string>(std::move(v));
  }

  ViewStoreImpl& store_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::map<std::string, OverlayRow, std::less<>> rows_;
};

class BatchImpl final : public ViewStore::Batch {
 public:
  explicit BatchImpl(ViewStoreImpl& s) : store_(s) {}
  ViewWriter& For(std::string_view projection) override {
    auto it = writers_.find(projection);
    if (it != writers_.end()) return *it->second;
    auto cf = store_.Cf(projection);
    if (!cf.ok()) throw std::logic_error(cf.status().message());  // a wiring bug
    auto w = std::make_unique<WriterImpl>(store_, *cf);
    auto& ref = *w;
    writers_.emplace(std::string(projection), std::move(w));
    return ref;
  }
  void SetCheckpoint(std::string_view projection, uint64_t position) override {
    std::string v;
    codec::PutFixed64BE(&v, position);
    checkpoints_[std::string(projection)] = std::move(v);
  }
  rocksdb::WriteBatch Build() const {
    rocksdb::WriteBatch out;
    for (const auto& [_, w] : writers_) w->WriteTo(out);
    for (const auto& [name, v] : checkpoints_) out.Put(store_.checkpoints, name, v);
    return out;
  }

 private:
  ViewStoreImpl& store_;
  std::map<std::string, std::unique_ptr<WriterImpl>, std::less<>> writers_;
  std::map<std::string, std::string> checkpoints_;
};

}  // namespace

Result<std::optional<nlohmann::json>> ViewWriter::GetJson(std::string_view key) {
  auto v = Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<nlohmann::json>();
  nlohmann::json doc = nlohmann::json::parse(**v, nullptr, false);
  if (doc.is_discarded()) return NotJson();
  return std::optional<nlohmann::json>(std::move(doc));
}

void ViewWriter::PutJson(std::string_view key, nlohmann::json value) {
  Put(key, value.dump());
}

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
    return Status::IoError(
        fmt::format("cannot open the views at '{}' ({}); check the path and "
                    "that no other procedo process holds it",
                    path, s.ToString()));
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
  if (impl_->show) impl_->show(v);
  return std::optional<std::string>(std::move(v));
}

void ViewStore::ShowRowsWith(std::function<void(std::string& row)> show) {
  impl_->show = std::move(show);
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
    if (after.empty())
      it->Seek(rocksdb::Slice(prefix.data(), prefix.size()));
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
    if (impl_->show) impl_->show(out.back().value);
    if (reverse)
      it->Prev();
    else
      it->Next();
  }
  if (!it->status().ok())
    return Status::IoError("scanning a view failed: " + it->status().ToString());
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
  if (!s.ok())
    return Status::IoError(fmt::format("dropping projection {} failed: {}", name, s.ToString()));
  return Status::Ok();
}

StoreMemory ViewStore::Memory() const {
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  for (auto& [_, h] : impl_->cfs) cfs.push_back(h);
  return MeasureRocksDb(*impl_->db, cfs);
}

std::unique_ptr<ViewStore::Batch> ViewStore::NewBatch() {
  return std::make_unique<BatchImpl>(*impl_);
}

Status ViewStore::Commit(Batch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = impl_->sync;
  rocksdb::WriteBatch rows = static_cast<BatchImpl&>(batch).Build();
  auto s = impl_->db->Write(wo, &rows);
  if (!s.ok()) return Status::IoError("writing views failed: " + s.ToString());
  return Status::Ok();
}

}  // namespace procedo
