#include "engine/views/consumer.h"

#include <algorithm>
#include <chrono>

namespace procedo {

Status ReadToHead(const LogStore& log, uint64_t from,
                  const std::function<Status(const std::vector<EventPtr>& page)>& apply) {
  const uint64_t head = log.LastPosition();
  uint64_t next = from;
  while (next <= head) {
    auto events = log.ReadAll(next, std::min<uint64_t>(4096, head - next + 1));
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    std::vector<EventPtr> page;
    page.reserve(events->size());
    for (auto& e : *events) page.push_back(std::make_shared<Event>(std::move(e)));
    if (Status s = apply(page); !s.ok()) return s;
    next = page.back()->position + 1;
  }
  return Status::Ok();
}

void ConsumerSupervisor::Add(Consumer* consumer) {
  std::lock_guard lock(mu_);
  consumers_.push_back(consumer);
}

Status ConsumerSupervisor::StartAll() {
  std::unique_lock lock(mu_);
  while (started_ < consumers_.size()) {
    Consumer* c = consumers_[started_];
    lock.unlock();
    Status s = c->Start();
    lock.lock();
    if (!s.ok()) {
      lock.unlock();
      StopAll();
      return s;
    }
    ++started_;
  }
  return Status::Ok();
}

void ConsumerSupervisor::StopAll() {
  std::unique_lock lock(mu_);
  while (started_ > 0) {
    Consumer* c = consumers_[--started_];
    lock.unlock();
    c->Stop();
    lock.lock();
  }
}

std::vector<ConsumerStatus> ConsumerSupervisor::Statuses() const {
  std::vector<Consumer*> list;
  {
    std::lock_guard lock(mu_);
    list = consumers_;
  }
  const uint64_t head = log_.LastPosition();
  std::vector<ConsumerStatus> out;
  out.reserve(list.size());
  for (const Consumer* c : list) {
    ConsumerStatus s{c->name(), c->Progress()};
    if (!s.progress.lag) {
      s.progress.lag = head - std::min(head, s.progress.position);
      if (*s.progress.lag > 0) {
        auto next = log_.ReadAll(s.progress.position + 1, 1);
        if (next.ok() && !next->empty()) {
          auto age = clock_.Now() - next->front().time;
          s.progress.lag_seconds = std::max(0.0, std::chrono::duration<double>(age).count());
        }
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace procedo
