#include "bench/bench_util.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

namespace procedo::bench {

std::string Payload(uint64_t i) {
  return fmt::format(
      R"({{"case_code":"FC-2026-{:08d}","office":"Ufficio Attivita Produttive","responsible":{{"name":"Maria Rossi","phone":"+39 0543 712345","email":"m.rossi@provincia.fc.it"}},"procedure":"autorizzazione-unica-ambientale","term":{{"days":20,"kind":"calendar"}},"applicant":{{"email":"cittadino{}@example.it","consent":true}}}})",
      i, i % 1000);
}

ScratchDir::ScratchDir(const std::string& name) {
  const char* base = std::getenv("PROCEDO_BENCH_DIR");
  std::filesystem::path root = base ? base : "build/bench-data";
  path_ = std::filesystem::absolute(root / fmt::format("{}-{}", name, std::random_device{}())).string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

double RunThreads(int threads, const Limits& limits,
                  const std::function<uint64_t(int, uint64_t)>& work) {
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limits.max_time;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        uint64_t n = work(t, i);
        if (done.fetch_add(n) + n >= limits.max_events) stop = true;
        // Checked every few calls: a clock read per append would show up in the figure.
        if ((i & 15) == 0 && std::chrono::steady_clock::now() >= deadline) stop = true;
      }
    });
  }
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(done.load()) / secs;
}

void PrintResult(const std::string& name, double value, double baseline) {
  fmt::print("RESULT {} value={:.0f} baseline={:.0f} ratio={:.2f}\n", name, value, baseline,
             baseline > 0 ? value / baseline : 0.0);
  std::fflush(stdout);
}

}  // namespace procedo::bench
