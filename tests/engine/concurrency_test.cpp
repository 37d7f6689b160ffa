// 16 threads append to overlapping streams with exact expected versions: no lost update, every
// conflict reported, positions gap-free.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

TEST_CASE("16 writers on overlapping streams lose no update", "[concurrency]") {
  LogFixture f;
  constexpr int kThreads = 16, kAttempts = 300, kStreams = 5;
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> accepted;  // stream -> payloads in version order
  std::atomic<int> conflicts{0}, successes{0};
  // Catch2's assertions are not thread-safe: threads note what was wrong, the test thread checks.
  std::vector<std::string> wrong;
  auto note = [&](std::string what) {
    std::lock_guard lock(mu);
    wrong.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < kAttempts; ++i) {
        std::string stream = "case-x-" + std::to_string(rng() % kStreams);
        uint64_t seen = f.log->StreamVersion(stream).value();
        std::string payload = "{\"i\":" + std::to_string(i) + ",\"t\":" + std::to_string(t) + "}";
        auto ev = seen == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(seen);
        auto r = f.log->Append(Req(stream, ev, {Ev("case.noted", payload)}));
        if (r.ok()) {
          if (r->stream_version != seen + 1) note(stream + ": appended at the wrong version");
          std::lock_guard lock(mu);
          auto& v = accepted[stream];
          if (v.size() < seen + 1) v.resize(seen + 1);
          v[seen] = payload;
          ++successes;
        } else {
          const Status& st = r.status();
          if (!st.IsConflict() || !st.actual_version() || *st.actual_version() <= seen) {
            note(stream + ": " + st.ToString());
          }
          ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.empty());
  CHECK(successes + conflicts == kThreads * kAttempts);
  CHECK(conflicts > 0);  // with 16 writers on 5 streams, races must have happened
  CHECK(f.log->LastPosition() == static_cast<uint64_t>(successes.load()));
  auto all = f.log->ReadAll(1, kThreads * kAttempts).value();
  REQUIRE(all.size() == static_cast<size_t>(successes.load()));
  for (size_t i = 0; i < all.size(); ++i) REQUIRE(all[i].position == i + 1);
  for (auto& [stream, payloads] : accepted) {
    auto events = f.log->ReadStream(stream, 1, Direction::kForward, 100000).value();
    REQUIRE(events.size() == payloads.size());
    for (size_t v = 0; v < events.size(); ++v) {
      CHECK(events[v].version == v + 1);
      CHECK(events[v].data == payloads[v]);  // every acknowledged update is there, in its slot
    }
  }
}
