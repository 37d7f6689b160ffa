// Helpers of the sla case (sla_case.cpp): when events become durable, and what the process
// holds in memory.
#pragma once

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/log/log_store.h"

namespace procedo::bench::sla {

using Clock = std::chrono::steady_clock;

inline long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// Records when each sla event becomes visible to a log subscriber.
class ArrivalClock {
 public:
  explicit ArrivalClock(LogStore& log) : sub_(log.Subscribe(log.LastPosition() + 1)) {
    thread_ = std::thread([this] {
      for (;;) {
        auto events = sub_->Next(4096, std::chrono::milliseconds(100));
        if (!events.ok()) return;  // cancelled
        const auto now = Clock::now();
        std::lock_guard lock(mu_);
        for (const auto& e : *events) {
          if (e->type.starts_with("sla.")) seen_.emplace_back(e->position, e->type, now);
          seen_up_to_ = e->position;
        }
        cv_.notify_all();
      }
    });
  }
  ~ArrivalClock() {
    sub_->Cancel();
    thread_.join();
  }
  // The sla events at positions [from, to], once the subscriber has seen `to`.
  std::vector<std::pair<std::string, Clock::time_point>> Since(uint64_t from, uint64_t to) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return seen_up_to_ >= to; });
    std::vector<std::pair<std::string, Clock::time_point>> out;
    for (const auto& [position, type, at] : seen_) {
      if (position >= from && position <= to) out.emplace_back(type, at);
    }
    std::erase_if(seen_, [to](const auto& s) { return std::get<0>(s) <= to; });
    return out;
  }

 private:
  std::unique_ptr<Subscription> sub_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::tuple<uint64_t, std::string, Clock::time_point>> seen_;
  uint64_t seen_up_to_ = 0;
};

inline double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
// jemalloc's control entry point when it is the allocator (PROCEDO_JEMALLOC), else null.
inline Mallctl JemallocCtl() {
  static auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  return mallctl;
}

// jemalloc's statistics in bytes: what the program holds (allocated), the pages that holds
// (active: the difference is fragmentation), and the pages jemalloc keeps mapped (resident: the
// rest is freed memory not yet given back). Zeros without jemalloc.
inline std::array<size_t, 3> AllocatorBytes() {
  std::array<size_t, 3> v{0, 0, 0};
  Mallctl mallctl = JemallocCtl();
  if (mallctl == nullptr) return v;
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);  // refreshes the statistics
  const char* names[3] = {"stats.allocated", "stats.active", "stats.resident"};
  for (int i = 0; i < 3; ++i) {
    len = sizeof(size_t);
    if (mallctl(names[i], &v[i], &len, nullptr, 0) != 0) v[i] = 0;
  }
  return v;
}

// Gives freed pages back to the system now instead of after the allocator's decay time, so
// VmRSS shows what the process holds rather than what it recently freed.
inline void ReturnFreedPages() {
  if (Mallctl mallctl = JemallocCtl()) mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  else malloc_trim(0);
}

}  // namespace procedo::bench::sla
