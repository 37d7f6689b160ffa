// Threads a server starts for work that blocks (an event stream's pump), owned and joined rather
// than detached: a thread outliving its server would reach freed connections and a stopped loop.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace procedo::http {

class OwnedThreads {
 public:
  OwnedThreads() = default;
  OwnedThreads(const OwnedThreads&) = delete;
  OwnedThreads& operator=(const OwnedThreads&) = delete;
  ~OwnedThreads() { JoinAll(); }

  // Runs `body` on a new thread; the threads that have finished are joined first, so a server
  // that runs for months keeps none of them.
  void Start(std::function<void()> body) {
    std::lock_guard lock(mu_);
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (!it->done.load()) {
        ++it;
        continue;
      }
      it->thread.join();
      it = threads_.erase(it);
    }
    Owned& o = threads_.emplace_back();
    o.thread = std::thread([&o, body = std::move(body)]() mutable {
      {
        // What the body holds is released before the thread counts as done.
        auto run = std::move(body);
        run();
      }
      o.done.store(true);
    });
  }

  // Waits for every thread started so far.
  void JoinAll() {
    std::list<Owned> all;
    {
      std::lock_guard lock(mu_);
      all.splice(all.end(), threads_);
    }
    for (auto& o : all) o.thread.join();
  }

 private:
  struct Owned {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mu_;
  std::list<Owned> threads_;
};

}  // namespace procedo::http
