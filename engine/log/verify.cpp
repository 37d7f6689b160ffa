#include "engine/log/verify.h"

#include <fmt/format.h>
#include <rocksdb/db.h>

#include <memory>
#include <unordered_map>

#include "engine/log/codec.h"

namespace procedo {
namespace {

struct Db {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~Db() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

VerifyReport Broken(VerifyReport r, uint64_t position, std::string problem) {
  r.ok = false;
  r.first_bad_position = position;
  r.problem = std::move(problem);
  return r;
}

}  // namespace

Result<VerifyReport> VerifyLog(const std::string& path,
                               const std::function<void(uint64_t)>& progress) {
  Db d;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {"events", {}}, {"streams", {}}, {"idempotency", {}}};
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &d.handles, &raw);
  if (!s.ok()) {
    return Status::IoError(fmt::format("cannot open the log at '{}' read-only ({}); is it a "
                                       "procedo data directory?", path, s.ToString()));
  }
  d.db.reset(raw);
  auto* events = d.handles[1];
  auto* streams = d.handles[2];

  VerifyReport r;
  std::unordered_map<std::string, uint64_t> last_version;
  Hash prev{};
  uint64_t expect = 1;
  std::unique_ptr<rocksdb::Iterator> it(d.db->NewIterator(rocksdb::ReadOptions(), events));
  std::unique_ptr<rocksdb::Iterator> idx(d.db->NewIterator(rocksdb::ReadOptions(), streams));
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
    if (it->key().size() != 8) {
      return Broken(r, expect, fmt::format("a key of {} bytes sits where position {} should be",
                                           it->key().size(), expect));
    }
    const uint64_t at = codec::DecodeFixed64BE(it->key().data());
    if (at != expect) {
      return Broken(r, expect, fmt::format("position {} is missing: the log jumps from {} to {}",
                                           expect, expect - 1, at));
    }
    std::string_view value(it->value().data(), it->value().size());
    auto e = codec::DecodeEvent(value);
    if (!e.ok()) return Broken(r, at, e.status().message());
    if (e->position != at) {
      return Broken(r, at, fmt::format("the event stored at position {} says it is position {}: "
                                       "events were moved or swapped", at, e->position));
    }
    if (e->prev_hash != prev) {
      return Broken(r, at, fmt::format("prev_hash does not match the hash of position {}: the "
                                       "event at {} or the one before it was altered", at - 1, at));
    }
    if (codec::ComputeHash(value) != e->hash) {
      return Broken(r, at, "the event's bytes do not match its hash: the event was altered");
    }
    uint64_t& v = last_version[e->stream];
    if (e->version != v + 1) {
      return Broken(r, at, fmt::format("stream {} goes from version {} to {}", e->stream, v,
                                       e->version));
    }
    v = e->version;
    const std::string key = codec::StreamIndexKey(e->stream, e->version);
    idx->Seek(key);
    if (!idx->Valid() || idx->key() != key || idx->value().size() != 8 ||
        codec::DecodeFixed64BE(idx->value().data()) != at) {
      return Broken(r, at, fmt::format("the stream index has no entry {} v{} -> {}", e->stream,
                                       e->version, at));
    }
    prev = e->hash;
    ++r.events_checked;
    if (progress && (r.events_checked & 0xffff) == 0) progress(r.events_checked);
  }
  if (!it->status().ok()) return Status::IoError("reading the log failed: " + it->status().ToString());

  // Every event has its index entry; any further entry points at nothing.
  for (idx->SeekToFirst(); idx->Valid(); idx->Next()) ++r.index_entries_checked;
  if (r.index_entries_checked != r.events_checked) {
    for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
      std::string_view k(idx->key().data(), idx->key().size());
      size_t nul = k.find('\0');
      uint64_t pos = idx->value().size() == 8 ? codec::DecodeFixed64BE(idx->value().data()) : 0;
      std::string stream(k.substr(0, nul));
      uint64_t version = nul != std::string_view::npos && k.size() == nul + 9
                             ? codec::DecodeFixed64BE(k.data() + nul + 1) : 0;
      auto lv = last_version.find(stream);
      if (lv == last_version.end() || version == 0 || version > lv->second || pos == 0 ||
          pos >= expect) {
        return Broken(r, pos, fmt::format("the stream index has an entry {} v{} -> {} with no "
                                          "such event", stream, version, pos));
      }
    }
    return Broken(r, 0, "the stream index has more entries than the log has events");
  }
  r.ok = true;
  r.head_hash = prev;
  return r;
}

}  // namespace procedo
