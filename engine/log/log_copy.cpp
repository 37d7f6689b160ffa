// A log that follows another copy of itself: events arrive exactly as the owner stored them (its
// changelog) and are written here only when each links on from this log's head, so that a
// standby's log is the owner's byte for byte, or stops where they part.
#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "engine/log/codec.h"
#include "engine/log/log_core.h"
#include "engine/log/verify.h"

namespace procedo {

Result<uint64_t> LogCore::VersionInGroup(
    const std::string& stream, const std::unordered_map<std::string, uint64_t>& local_versions) {
  if (auto it = local_versions.find(stream); it != local_versions.end()) return it->second;
  if (auto known = versions.Find(stream)) return *known;
  return LoadStreamVersion(stream);
}

Result<AppendResult> LogCore::StageCopied(std::vector<std::string>& copied,
                                          rocksdb::WriteBatch& batch, uint64_t& pos, Hash& prev,
                                          TimePoint& t_last,
                                          std::unordered_map<std::string, uint64_t>& local_versions,
                                          std::vector<EventPtr>& published) {
  // Checked whole before anything goes into the batch: the group's other items are written.
  std::vector<std::shared_ptr<Event>> events;
  std::unordered_map<std::string, uint64_t> versions_after;
  uint64_t at = pos;
  Hash link = prev;
  for (const std::string& stored : copied) {
    auto e = std::make_shared<Event>();
    if (auto broken = CheckLink(at, stored, link, e.get())) {
      return Status::Corruption(fmt::format(
          "the copy's event for position {} does not continue this log: {}; this log and its "
          "copy have parted, rebuild this log from the copy",
          at, *broken));
    }
    uint64_t before = 0;
    if (auto it = versions_after.find(e->stream); it != versions_after.end()) {
      before = it->second;
    } else {
      auto current = VersionInGroup(e->stream, local_versions);
      if (!current.ok()) return current.status();
      before = *current;
    }
    if (e->version != before + 1) {
      return Status::Corruption(fmt::format(
          "the copy's event at position {} is version {} of {}, which is at version {} here; "
          "this log and its copy have parted, rebuild this log from the copy",
          at, e->version, e->stream, before));
    }
    versions_after[e->stream] = e->version;
    link = e->hash;
    ++at;
    events.push_back(std::move(e));
  }
  AppendResult res;
  res.first_position = pos;
  res.last_position = at - 1;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    batch.Put(cf_events, codec::PositionKey(e->position), copied[i]);
    batch.Put(cf_streams, codec::StreamIndexKey(e->stream, e->version),
              codec::PositionKey(e->position));
    t_last = std::max(t_last, e->time);
    res.events.push_back(e);
    published.push_back(e);
  }
  for (auto& [stream, version] : versions_after) local_versions[stream] = version;
  res.stream_version = events.empty() ? 0 : events.back()->version;
  pos = at;
  prev = link;
  return res;
}

}  // namespace procedo
