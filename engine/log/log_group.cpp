// Sequencing a group: versions and idempotency checked, positions, times and the hash chain
// assigned, the batch built. Runs on the writer thread only.
#include <fmt/format.h>

#include <cstring>

#include "engine/log/codec.h"
#include "engine/log/log_core.h"

namespace procedo {
namespace {

// Idempotency record: fingerprint(32) | first position | event count | stream version after,
// the three numbers as 8-byte big-endian.
std::string EncodeIdempotency(const Hash& fp, uint64_t first, uint64_t count, uint64_t version) {
  std::string v(reinterpret_cast<const char*>(fp.data()), fp.size());
  codec::PutFixed64BE(&v, first);
  codec::PutFixed64BE(&v, count);
  codec::PutFixed64BE(&v, version);
  return v;
}

Status CheckExpected(const std::string& stream, const ExpectedVersion& want, uint64_t current) {
  auto actual = current == 0 ? std::nullopt : std::optional<uint64_t>(current);
  auto conflict = [&](const std::string& wanted, Status::SubCode sub) {
    return Status::Conflict(
        fmt::format("stream {} {} but the append expected {}: read the stream again, decide on "
                    "its current state and retry",
                    stream, current == 0 ? "does not exist" : fmt::format("is at version {}", current),
                    wanted),
        actual, sub, stream);
  };
  switch (want.kind) {
    case ExpectedVersion::Kind::kAny: return Status::Ok();
    case ExpectedVersion::Kind::kNoStream:
      return current == 0 ? Status::Ok() : conflict("no stream", Status::SubCode::kStreamExists);
    case ExpectedVersion::Kind::kStreamExists:
      return current != 0 ? Status::Ok()
                          : conflict("an existing stream", Status::SubCode::kStreamMissing);
    case ExpectedVersion::Kind::kExact:
      return current == want.version
                 ? Status::Ok()
                 : conflict(fmt::format("version {}", want.version),
                            current == 0 ? Status::SubCode::kStreamMissing
                                         : Status::SubCode::kVersionMismatch);
  }
  return Status::Ok();
}

Status KeyReused(const std::string& key) {
  return Status::InvalidArgument(
      fmt::format("idempotency key '{}' was already used for a different request; use a new key "
                  "for a new request",
                  key),
      Status::SubCode::kIdempotencyKeyReused);
}

}  // namespace

Result<uint64_t> LogCore::VersionBefore(const std::string& stream, const PreparedGroup& g,
                                        const PreparedGroup* inflight) const {
  if (auto it = g.versions.find(stream); it != g.versions.end()) return it->second;
  if (inflight != nullptr) {
    if (auto it = inflight->versions.find(stream); it != inflight->versions.end()) return it->second;
  }
  if (auto known = versions.Find(stream)) return *known;
  // Not in a group in flight, so no write in flight touches its index entries.
  return LoadStreamVersion(stream);
}

void LogCore::Prepare(PreparedGroup& g, const PreparedGroup* inflight) {
  g.outcomes.reserve(g.appends.size());
  const TimePoint now = options.clock->Now();
  for (auto& p : g.appends) {
    const AppendRequest& r = p->request;
    if (!r.idempotency_key.empty()) {
      const PreparedGroup::Keyed* seen = nullptr;
      if (auto it = g.keys.find(r.idempotency_key); it != g.keys.end()) {
        seen = &it->second;
      } else if (inflight != nullptr) {
        if (auto jt = inflight->keys.find(r.idempotency_key); jt != inflight->keys.end()) {
          seen = &jt->second;
        }
      }
      if (seen != nullptr) {
        if (seen->fingerprint != p->fingerprint) {
          g.outcomes.push_back(KeyReused(r.idempotency_key));
        } else {
          AppendResult dup = seen->result;
          dup.deduplicated = true;
          g.outcomes.push_back(std::move(dup));
        }
        continue;
      }
      std::string rec;
      auto s = db->Get(rocksdb::ReadOptions(), cf_idempotency, r.idempotency_key, &rec);
      if (s.ok()) {
        if (rec.size() != 56 || std::memcmp(rec.data(), p->fingerprint.data(), 32) != 0) {
          g.outcomes.push_back(KeyReused(r.idempotency_key));
          continue;
        }
        AppendResult dup;
        dup.first_position = codec::DecodeFixed64BE(rec.data() + 32);
        uint64_t count = codec::DecodeFixed64BE(rec.data() + 40);
        dup.last_position = dup.first_position + count - 1;
        dup.stream_version = codec::DecodeFixed64BE(rec.data() + 48);
        dup.deduplicated = true;
        auto events = ReadRange(dup.first_position, count);
        if (!events.ok()) {
          g.outcomes.push_back(events.status());
          continue;
        }
        for (auto& e : events.value()) dup.events.push_back(std::make_shared<Event>(std::move(e)));
        g.outcomes.push_back(std::move(dup));
        continue;
      }
      if (!s.IsNotFound()) {
        g.outcomes.push_back(
            Status::IoError("reading the idempotency record failed: " + s.ToString()));
        continue;
      }
    }

    // Every stream of the request must be where the request expects it before anything of it
    // goes into the batch: all or nothing.
    struct Part {
      const std::string* stream;
      std::vector<NewEvent>* events;
      uint64_t current;
    };
    Part parts_inline[2];
    std::vector<Part> parts_more;
    const size_t n_parts = 1 + r.also.size();
    auto part = [&](size_t i) -> Part& { return i < 2 ? parts_inline[i] : parts_more[i - 2]; };
    if (n_parts > 2) parts_more.resize(n_parts - 2);
    Status refused;
    for (size_t i = 0; i < n_parts && refused.ok(); ++i) {
      const std::string& stream = i == 0 ? r.stream : r.also[i - 1].stream;
      const ExpectedVersion& expected = i == 0 ? r.expected : r.also[i - 1].expected;
      auto current = VersionBefore(stream, g, inflight);
      if (!current.ok()) {
        refused = current.status();
        break;
      }
      refused = CheckExpected(stream, expected, *current);
      part(i) = Part{&stream, i == 0 ? &p->request.events : &p->request.also[i - 1].events,
                     *current};
    }
    if (!refused.ok()) {
      g.outcomes.push_back(std::move(refused));
      continue;
    }

    AppendResult res;
    res.first_position = next_position_;
    size_t count = 0;
    for (size_t k = 0; k < n_parts; ++k) {
      const Part& pt = part(k);
      const std::string& stream = *pt.stream;
      for (size_t i = 0; i < pt.events->size(); ++i) {
        // The request is not needed after this: move its strings into the stored event.
        NewEvent& ne = (*pt.events)[i];
        auto e = std::make_shared<Event>();
        e->position = next_position_++;
        e->stream = stream;
        e->version = pt.current + i + 1;
        e->type = std::move(ne.type);
        e->id = ne.id ? *ne.id : uuids.Next();
        last_time_ = std::max(now, last_time_);  // recorded time never runs backwards along the log
        e->time = last_time_;
        e->tenant = std::move(ne.tenant);
        e->actor = std::move(ne.actor);
        e->correlation_id = std::move(ne.correlation_id);
        e->causation_id = std::move(ne.causation_id);
        e->data = std::move(ne.data);
        e->prev_hash = last_hash_;
        std::string value = codec::EncodeEvent(*e);
        e->hash = last_hash_ = codec::SealEncodedEvent(&value);
        // Keys built in place: a bulk append writes two of them per event.
        char pos_key[8], version_be[8];
        for (int b = 0; b < 8; ++b) {
          pos_key[b] = static_cast<char>(e->position >> (56 - 8 * b));
          version_be[b] = static_cast<char>(e->version >> (56 - 8 * b));
        }
        g.batch.Put(cf_events, rocksdb::Slice(pos_key, 8), value);
        rocksdb::Slice index_key[3] = {rocksdb::Slice(stream), rocksdb::Slice("\0", 1),
                                       rocksdb::Slice(version_be, 8)};
        rocksdb::Slice index_value(pos_key, 8);
        g.batch.Put(cf_streams, rocksdb::SliceParts(index_key, 3),
                    rocksdb::SliceParts(&index_value, 1));
        res.events.push_back(e);
        g.published.push_back(std::move(e));
      }
      count += pt.events->size();
      g.versions[stream] = pt.current + pt.events->size();
    }
    res.last_position = next_position_ - 1;
    res.stream_version = part(0).current + r.events.size();
    if (!r.idempotency_key.empty()) {
      g.batch.Put(cf_idempotency, r.idempotency_key,
                  EncodeIdempotency(p->fingerprint, res.first_position, count, res.stream_version));
      g.keys.emplace(r.idempotency_key, PreparedGroup::Keyed{p->fingerprint, res});
    }
    g.outcomes.push_back(std::move(res));
  }
}

}  // namespace procedo
