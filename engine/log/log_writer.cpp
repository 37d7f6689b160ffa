// The single writer: sequences every append, and groups all appends waiting at that moment into
// one WriteBatch and one WAL sync (group commit).
#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <cstring>

#include "engine/log/codec.h"
#include "engine/log/log_core.h"
#include "engine/log/replication.h"

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
                    stream,
                    current == 0 ? "does not exist" : fmt::format("is at version {}", current),
                    wanted),
        actual, sub, stream);
  };
  switch (want.kind) {
    case ExpectedVersion::Kind::kAny:
      return Status::Ok();
    case ExpectedVersion::Kind::kNoStream:
      return current == 0 ? Status::Ok() : conflict("no stream", Status::SubCode::kStreamExists);
    case ExpectedVersion::Kind::kStreamExists:
      return current != 0 ? Status::Ok()
                          : conflict("an existing stream", Status::SubCode::kStreamMissing);
    case ExpectedVersion::Kind::kExact:
      return current == want.version ? Status::Ok()
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

void LogCore::StartWriter() {
  writer_ = std::thread([this] { WriterLoop(); });
}

void LogCore::Enqueue(std::unique_ptr<PendingAppend> pending) {
  {
    std::lock_guard lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(pending));
      queue_cv_.notify_one();
      return;
    }
  }
  Complete(*pending, Status::Shutdown("the log is closing and takes no more appends; retry on "
                                      "the next start"));
  WakeWaiters();
}

void LogCore::Complete(PendingAppend& p, Result<AppendResult> outcome) {
  if (p.waiter == nullptr) {
    p.done(std::move(outcome));
    return;
  }
  p.waiter->outcome.emplace(std::move(outcome));
  p.waiter->ready.store(true, std::memory_order_release);
}

void LogCore::WakeWaiters() {
  completions.fetch_add(1, std::memory_order_release);
  completions.notify_all();
}

Result<AppendResult> LogCore::Wait(SyncWaiter& w) {
  for (;;) {
    // Read the generation before the flag: an answer that lands in between bumps it, and the
    // wait below returns at once.
    const int seen = completions.load(std::memory_order_acquire);
    if (w.ready.load(std::memory_order_acquire)) return std::move(*w.outcome);
    completions.wait(seen, std::memory_order_acquire);
  }
}

void LogCore::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(live_mu);
  closed = true;
  live_cv.notify_all();
}

void LogCore::WriterLoop() {
  std::vector<std::unique_ptr<PendingAppend>> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been answered
      size_t bytes = 0;
      while (!queue_.empty() &&
             (group.empty() || bytes + queue_.front()->bytes <= options.max_group_bytes)) {
        bytes += queue_.front()->bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ProcessGroup(group);
    group.clear();
  }
}

void LogCore::ProcessGroup(std::vector<std::unique_ptr<PendingAppend>>& group) {
  std::vector<Result<AppendResult>> outcomes;
  outcomes.reserve(group.size());
  if (!failure_.ok()) {
    for (auto& p : group) Complete(*p, failure_);
    WakeWaiters();
    return;
  }
  rocksdb::WriteBatch batch;
  uint64_t pos = next_position_;
  Hash prev = last_hash_;
  TimePoint t_last = last_time_;
  const TimePoint now = options.clock->Now();
  std::unordered_map<std::string, uint64_t> local_versions;
  std::unordered_map<std::string, size_t> local_keys;  // idempotency key -> outcome index
  std::vector<EventPtr> published;
  std::vector<std::string> stored;  // what a replicator copies: each event as written here
  std::vector<SideRow> side_rows;
  Replicator* const replicator = this->replicator.load();

  for (auto& p : group) {
    if (!p->copied.empty()) {
      if (replicator != nullptr) {
        outcomes.push_back(Status::InvalidArgument(
            "this log writes its own copy (it owns its history here): events from another copy "
            "cannot be applied to it; follow the copy from a log that does not"));
      } else {
        outcomes.push_back(
            StageCopied(p->copied, batch, pos, prev, t_last, local_versions, published));
      }
      continue;
    }
    const AppendRequest& r = p->request;
    if (!r.idempotency_key.empty()) {
      if (auto it = local_keys.find(r.idempotency_key); it != local_keys.end()) {
        const PendingAppend& first = *group[it->second];
        if (first.fingerprint != p->fingerprint) {
          outcomes.push_back(KeyReused(r.idempotency_key));
        } else {
          AppendResult dup = outcomes[it->second].value();
          dup.deduplicated = true;
          outcomes.push_back(std::move(dup));
        }
        continue;
      }
      std::string rec;
      auto s = db->Get(rocksdb::ReadOptions(), cf_idempotency, r.idempotency_key, &rec);
      if (s.ok()) {
        if (rec.size() != 56 || std::memcmp(rec.data(), p->fingerprint.data(), 32) != 0) {
          outcomes.push_back(KeyReused(r.idempotency_key));
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
          outcomes.push_back(events.status());
          continue;
        }
        for (auto& e : events.value()) dup.events.push_back(std::make_shared<Event>(std::move(e)));
        outcomes.push_back(std::move(dup));
        continue;
      }
      if (!s.IsNotFound()) {
        outcomes.push_back(
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
      auto in_group = VersionInGroup(stream, local_versions);
      if (!in_group.ok()) {
        refused = in_group.status();
        break;
      }
      const uint64_t current = *in_group;
      refused = CheckExpected(stream, expected, current);
      part(i) =
          Part{&stream, i == 0 ? &p->request.events : &p->request.also[i - 1].events, current};
    }
    if (!refused.ok()) {
      outcomes.push_back(std::move(refused));
      continue;
    }

    AppendResult res;
    res.first_position = pos;
    size_t count = 0;
    for (size_t k = 0; k < n_parts; ++k) {
      const Part& pt = part(k);
      const std::string& stream = *pt.stream;
      for (size_t i = 0; i < pt.events->size(); ++i) {
        // The request is not needed after this: move its strings into the stored event.
        NewEvent& ne = (*pt.events)[i];
        auto e = std::make_shared<Event>();
        e->position = pos++;
        e->stream = stream;
        e->version = pt.current + i + 1;
        e->type = std::move(ne.type);
        e->id = ne.id ? *ne.id : uuids.Next();
        t_last = std::max(now, t_last);  // recorded time never runs backwards along the log
        e->time = t_last;
        e->tenant = std::move(ne.tenant);
        e->actor = std::move(ne.actor);
        e->correlation_id = std::move(ne.correlation_id);
        e->causation_id = std::move(ne.causation_id);
        e->data = std::move(ne.data);
        e->prev_hash = prev;
        std::string value = codec::EncodeEvent(*e);
        e->hash = prev = codec::SealEncodedEvent(&value);
        // Keys built in place: a bulk append writes two of them per event.
        char pos_key[8], version_be[8];
        for (int b = 0; b < 8; ++b) {
          pos_key[b] = static_cast<char>(e->position >> (56 - 8 * b));
          version_be[b] = static_cast<char>(e->version >> (56 - 8 * b));
        }
        batch.Put(cf_events, rocksdb::Slice(pos_key, 8), value);
        if (replicator != nullptr) stored.push_back(std::move(value));
        rocksdb::Slice index_key[3] = {rocksdb::Slice(stream), rocksdb::Slice("\0", 1),
                                       rocksdb::Slice(version_be, 8)};
        rocksdb::Slice index_value(pos_key, 8);
        batch.Put(cf_streams, rocksdb::SliceParts(index_key, 3),
                  rocksdb::SliceParts(&index_value, 1));
        res.events.push_back(e);
        published.push_back(std::move(e));
      }
      count += pt.events->size();
      local_versions[stream] = pt.current + pt.events->size();
    }
    res.last_position = pos - 1;
    res.stream_version = part(0).current + r.events.size();
    if (!r.idempotency_key.empty()) {
      batch.Put(cf_idempotency, r.idempotency_key,
                EncodeIdempotency(p->fingerprint, res.first_position, count, res.stream_version));
      local_keys.emplace(r.idempotency_key, outcomes.size());
    }
    for (auto& row : p->request.side_rows) {
      batch.Put(cf_side, row.key, row.value);
      side_rows.push_back(std::move(row));
    }
    outcomes.push_back(std::move(res));
  }

  if (replicator != nullptr && !published.empty()) {
    if (Status copied = replicator->Replicate(published, stored); !copied.ok()) {
      // Not written here either, so that the copy and this log never disagree: refused, or (the
      // copy's state unknown, or the log owned elsewhere now) no more appends at all. Every
      // answer of the group goes: a conflict or a reused key may have been judged against an
      // append of the group that now never happened.
      if (copied.code() == Status::Code::kIoError || copied.Is(Status::SubCode::kNotOwner)) {
        failure_ = copied;
      }
      for (size_t i = 0; i < group.size(); ++i) Complete(*group[i], copied);
      WakeWaiters();
      return;
    }
  }
  if (batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    auto s = db->Write(wo, &batch);
    if (!s.ok()) {
      failure_ = Status::IoError("writing to the log failed (" + s.ToString() +
                                 "); nothing of this group was appended; restart the server after "
                                 "fixing the disk");
      for (size_t i = 0; i < group.size(); ++i) {
        if (outcomes[i].ok()) outcomes[i] = failure_;
      }
      published.clear();
    } else {
      next_position_ = pos;
      last_hash_ = prev;
      last_time_ = t_last;
      for (auto& [stream, v] : local_versions) versions.Set(stream, v);
      if (!side_rows.empty()) {
        std::lock_guard lock(side_mu);
        if (side_durable) side_durable(side_rows);
      }
      Publish(published);
    }
  }
  for (size_t i = 0; i < group.size(); ++i) Complete(*group[i], std::move(outcomes[i]));
  WakeWaiters();
}

void LogCore::Publish(const std::vector<EventPtr>& events) {
  if (events.empty()) return;
  std::lock_guard lock(live_mu);
  const uint64_t cap = ring.size();
  for (const auto& e : events) {
    ring[e->position % cap] = e;
    if (e->position >= ring_first + cap) ring_first = e->position - cap + 1;
  }
  last_position.store(events.back()->position, std::memory_order_release);
  live_cv.notify_all();
}

}  // namespace procedo
