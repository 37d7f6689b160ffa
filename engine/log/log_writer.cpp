// The writer and the committer. The writer takes every append waiting at that moment as one group
// and sequences it into one WriteBatch (log_group.cpp); the committer writes and syncs it (group
// commit). While one group is being synced, the writer sequences the next, so on a busy log the
// sync no longer stops the sequencing. With nothing else waiting, the writer commits the group
// itself: a lone caller pays no hand-over between threads.
#include <rocksdb/write_batch.h>

#include "engine/log/log_core.h"

namespace procedo {

void LogCore::StartWriter() {
  committer_ = std::thread([this] { CommitterLoop(); });
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
  if (writer_.joinable()) writer_.join();  // it stops the committer once all is durable
  std::lock_guard lock(live_mu);
  closed = true;
  live_cv.notify_all();
}

bool LogCore::QueueEmpty() {
  std::lock_guard lock(queue_mu_);
  return queue_.empty();
}

void LogCore::WriterLoop() {
  // Two groups take turns: one at the committer, one being sequenced. `in_flight` is the one the
  // committer may not have made durable yet, whose keys and versions the next group must see.
  auto current = std::make_unique<PreparedGroup>();
  std::unique_ptr<PreparedGroup> handed;
  const PreparedGroup* in_flight = nullptr;
  auto wait_committer_idle = [&] {
    std::unique_lock lock(commit_mu_);
    commit_cv_.wait(lock, [&] { return handed_ == nullptr; });
  };
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything queued has been taken
      size_t bytes = 0;
      while (!queue_.empty() && (current->appends.empty() ||
                                 bytes + queue_.front()->bytes <= options.max_group_bytes)) {
        bytes += queue_.front()->bytes;
        current->appends.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (failed_.load(std::memory_order_acquire)) {
      Commit(*current);  // answers every append with the failure
    } else {
      Prepare(*current, in_flight);
      const bool more_waiting = !QueueEmpty();
      wait_committer_idle();  // groups become durable in the order they were sequenced
      if (!more_waiting) {
        Commit(*current);
        in_flight = nullptr;
      } else {
        handed.swap(current);  // the committer is idle: the group it had is no longer read
        in_flight = handed.get();
        {
          std::lock_guard lock(commit_mu_);
          handed_ = handed.get();
        }
        commit_cv_.notify_all();
        if (!current) current = std::make_unique<PreparedGroup>();
      }
    }
    // Reused: its containers keep their capacity.
    current->appends.clear();
    current->outcomes.clear();
    current->batch.Clear();
    current->published.clear();
    current->versions.clear();
    current->keys.clear();
  }
  wait_committer_idle();
  {
    std::lock_guard lock(commit_mu_);
    commit_stop_ = true;
  }
  commit_cv_.notify_all();
  committer_.join();
}

void LogCore::CommitterLoop() {
  std::unique_lock lock(commit_mu_);
  for (;;) {
    commit_cv_.wait(lock, [&] { return commit_stop_ || handed_ != nullptr; });
    if (handed_ == nullptr) return;
    PreparedGroup* g = handed_;
    lock.unlock();
    if (Commit(*g)) groups_handed_over.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    handed_ = nullptr;
    commit_cv_.notify_all();
  }
}

bool LogCore::Commit(PreparedGroup& g) {
  bool failed = failed_.load(std::memory_order_acquire);
  bool written = false;
  if (!failed && g.batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = options.sync;
    auto s = db->Write(wo, &g.batch);
    if (!s.ok()) {
      failure_ = Status::IoError("writing to the log failed (" + s.ToString() +
                                 "); nothing of this group was appended; restart the server after "
                                 "fixing the disk");
      failed_.store(true, std::memory_order_release);
      failed = true;
    } else {
      written = true;
      groups_committed.fetch_add(1, std::memory_order_relaxed);
      for (auto& [stream, v] : g.versions) versions.Set(stream, v);
      Publish(g.published);
    }
  }
  // A group taken after a failure was never sequenced: it has no outcomes yet.
  if (g.outcomes.size() < g.appends.size()) {
    g.outcomes.resize(g.appends.size(), Result<AppendResult>(failure_));
  }
  if (failed) {
    for (auto& o : g.outcomes) {
      if (o.ok()) o = failure_;
    }
  }
  for (size_t i = 0; i < g.appends.size(); ++i) Complete(*g.appends[i], std::move(g.outcomes[i]));
  WakeWaiters();
  return written;
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
