// Child of the crash test: appends from several threads until killed, writing each
// acknowledged position to stdout (8 bytes, atomic on a pipe).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine/log/log_store.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: crash_child LOG_DIR\n");
    return 2;
  }
  procedo::LogOptions o;
  o.path = argv[1];
  o.sync = true;
  auto log = procedo::LogStore::Open(o);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        procedo::AppendRequest r;
        r.stream = "case-crash-" + std::to_string((i + t) % 7);
        size_t n = 1 + (i % 3);
        for (size_t k = 0; k < n; ++k) {
          r.events.push_back({"case.noted", "{\"t\":" + std::to_string(t) + ",\"i\":" +
                                                std::to_string(i) + "}", "crash", "{}", "", "", {}});
        }
        auto res = (*log)->Append(std::move(r));
        if (!res.ok()) {
          std::fprintf(stderr, "append failed: %s\n", res.status().ToString().c_str());
          std::_Exit(1);
        }
        uint64_t last = res->last_position;
        if (write(1, &last, sizeof last) != sizeof last) std::_Exit(1);
      }
    });
  }
  for (auto& th : threads) th.join();
}
