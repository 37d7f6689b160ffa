#include "engine/log/verify.h"

#include <fmt/format.h>
#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <set>
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

std::optional<std::string> CheckLink(uint64_t position, std::string_view stored, const Hash& prev,
                                     Event* decoded) {
  auto e = codec::DecodeEvent(stored);
  if (!e.ok()) return e.status().message();
  if (decoded != nullptr) *decoded = *e;
  if (e->position != position) {
    return fmt::format(
        "the event stored at position {} says it is position {}: events were "
        "moved or swapped",
        position, e->position);
  }
  if (e->prev_hash != prev) {
    return fmt::format(
        "prev_hash does not match the hash of position {}: the event at {} or the "
        "one before it was altered",
        position - 1, position);
  }
  if (codec::ComputeHash(stored) != e->hash) {
    return std::string("the event's bytes do not match its hash: the event was altered");
  }
  return std::nullopt;
}

Result<VerifyReport> VerifyLog(const std::string& path,
                               const std::function<void(uint64_t)>& progress) {
  Db d;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {"events", {}},
                                                      {"streams", {}},
                                                      {"idempotency", {}}};
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &d.handles, &raw);
  if (!s.ok()) {
    return Status::IoError(
        fmt::format("cannot open the log at '{}' read-only ({}); is it a "
                    "procedo data directory?",
                    path, s.ToString()));
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
      return Broken(r, expect,
                    fmt::format("a key of {} bytes sits where position {} should be",
                                it->key().size(), expect));
    }
    const uint64_t at = codec::DecodeFixed64BE(it->key().data());
    if (at != expect) {
      return Broken(r, expect,
                    fmt::format("position {} is missing: the log jumps from {} to {}", expect,
                                expect - 1, at));
    }
    std::string_view value(it->value().data(), it->value().size());
    Event decoded;
    if (auto problem = CheckLink(at, value, prev, &decoded)) return Broken(r, at, *problem);
    const Event* e = &decoded;
    uint64_t& v = last_version[e->stream];
    if (e->version != v + 1) {
      return Broken(r, at,
                    fmt::format("stream {} goes from version {} to {}", e->stream, v, e->version));
    }
    v = e->version;
    const std::string key = codec::StreamIndexKey(e->stream, e->version);
    idx->Seek(key);
    if (!idx->Valid() || idx->key() != key || idx->value().size() != 8 ||
        codec::DecodeFixed64BE(idx->value().data()) != at) {
      return Broken(
          r, at,
          fmt::format("the stream index has no entry {} v{} -> {}", e->stream, e->version, at));
    }
    prev = e->hash;
    ++r.events_checked;
    if (progress && (r.events_checked & 0xffff) == 0) progress(r.events_checked);
  }
  if (!it->status().ok())
    return Status::IoError("reading the log failed: " + it->status().ToString());

  // Every event has its index entry; any further entry points at nothing.
  for (idx->SeekToFirst(); idx->Valid(); idx->Next()) ++r.index_entries_checked;
  if (r.index_entries_checked != r.events_checked) {
    for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
      std::string_view k(idx->key().data(), idx->key().size());
      size_t nul = k.find('\0');
      uint64_t pos = idx->value().size() == 8 ? codec::DecodeFixed64BE(idx->value().data()) : 0;
      std::string stream(k.substr(0, nul));
      uint64_t version = nul != std::string_view::npos && k.size() == nul + 9
                             ? codec::DecodeFixed64BE(k.data() + nul + 1)
                             : 0;
      auto lv = last_version.find(stream);
      if (lv == last_version.end() || version == 0 || version > lv->second || pos == 0 ||
          pos >= expect) {
        return Broken(r, pos,
                      fmt::format("the stream index has an entry {} v{} -> {} with no "
                                  "such event",
                                  stream, version, pos));
      }
    }
    return Broken(r, 0, "the stream index has more entries than the log has events");
  }
  r.ok = true;
  r.head_hash = prev;
  return r;
}

}  // namespace procedo

namespace procedo {

Result<StreamVerifyReport> VerifyStream(const LogStore& log, const std::string& stream,
                                        size_t limit) {
  auto index = log.StreamIndex(stream, limit + 1);
  if (!index.ok()) return index.status();
  StreamVerifyReport r;
  if (index->size() > limit) {
    r.truncated = true;
    index->resize(limit);
  }
  const uint64_t last = log.LastPosition();
  // Each event, the one after it (whose link names its hash), and the one before each of those
  // (whose stored hash that link must carry).
  std::set<uint64_t> checked, wanted;
  for (const auto& [version, position] : *index) {
    if (position == 0) continue;
    checked.insert(position);
    if (position < last) checked.insert(position + 1);
  }
  for (uint64_t p : checked) {
    wanted.insert(p);
    if (p > 1) wanted.insert(p - 1);
  }
  const std::vector<uint64_t> positions(wanted.begin(), wanted.end());
  auto stored = log.ReadStored(positions);
  if (!stored.ok()) return stored.status();
  std::map<uint64_t, std::string_view> at;
  for (size_t i = 0; i < positions.size(); ++i) at[positions[i]] = (*stored)[i];

  std::map<uint64_t, std::string> broken;  // by position
  std::map<uint64_t, Event> events;
  for (uint64_t p : checked) {
    Hash prev{};
    if (p > 1) {
      if (at[p - 1].empty()) {
        broken[p] =
            fmt::format("position {} is missing: the log jumps from {} to {}", p - 1, p - 2, p);
        continue;
      }
      // The hash the event before stores is its last 32 bytes (codec.h): what the link names.
      const std::string_view before = at[p - 1];
      if (before.size() < prev.size()) {
        broken[p] = fmt::format("the event at position {} is too short to hold a hash", p - 1);
        continue;
      }
      std::copy(before.end() - prev.size(), before.end(), prev.begin());
    }
    if (at[p].empty()) {
      broken[p] = fmt::format("position {} is missing", p);
      continue;
    }
    Event e;
    if (auto problem = CheckLink(p, at[p], prev, &e)) broken[p] = *problem;
    if (!e.stream.empty() || e.position != 0) events[p] = std::move(e);
  }
  for (const auto& [version, position] : *index) {
    StreamLink link;
    link.version = version;
    link.position = position;
    auto e = events.find(position);
    if (e != events.end()) link.event = e->second;
    if (position == 0) {
      broken[0] = fmt::format("the stream index's entry {} v{} holds no position", stream, version);
    } else if (e != events.end() && (e->second.stream != stream || e->second.version != version)) {
      broken.emplace(position,
                     fmt::format("the stream index's entry {} v{} points at position {}, "
                                 "which holds {} v{}",
                                 stream, version, position, e->second.stream, e->second.version));
    } else if (version != r.links.size() + 1) {
      broken.emplace(position, fmt::format("stream {} goes from version {} to {}", stream,
                                           r.links.size(), version));
    }
    link.ok = position != 0 && !broken.count(position) && !broken.count(position + 1);
    r.links.push_back(std::move(link));
  }
  r.ok = broken.empty();
  if (!r.ok) {
    r.first_bad_position = broken.begin()->first;
    r.problem = broken.begin()->second;
  }
  return r;
}

}  // namespace procedo
