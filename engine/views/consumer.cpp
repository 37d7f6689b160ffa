#include "engine/views/consumer.h"

#include <chrono>

namespace procedo {

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
          s.progress.lag_seconds =
              std::max(0.0, std::chrono::duration<double>(age).count());
        }
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace procedo
