// Shared pieces of procedo-bench: timing, the RESULT line, payloads, scratch directories.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace procedo::bench {

struct Limits {
  uint64_t max_events = 1'000'000;
  std::chrono::milliseconds max_time{10'000};
  bool skip_baseline = false;  // for profiling the engine side alone; prints ratio 0
};

// ~300 bytes of JSON, like a case.started with office, responsible person and contacts.
std::string Payload(uint64_t i);

// A fresh directory under PROCEDO_BENCH_DIR (default build/bench-data: on disk, not tmpfs, so
// syncs cost what they cost in production). Removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `work(thread_index, stop)` on `threads` threads until `limits` say stop; each call of work
// does one unit and returns how many events it handled. Returns events per second.
double RunThreads(int threads, const Limits& limits,
                  const std::function<uint64_t(int thread, uint64_t iteration)>& work);

void PrintResult(const std::string& name, double value, double baseline);

}  // namespace procedo::bench
