// 16 threads append to overlapping streams with exact expected versions: no lost update, every
// conflict reported, positions gap-free.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/log/verify.h"
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

// Retries of one keyed request meet in one group, across groups and against the store, while
// other appends check exact versions: each key appends once, no version is handed out twice, and
// the log verifies afterwards.
TEST_CASE("keyed retries from many writers append once and the index stays whole", "[concurrency]") {
  LogFixture f;
  constexpr int kThreads = 48, kKeys = 200, kStreams = 6, kRounds = 3;
  std::mutex mu;
  std::vector<std::string> wrong;
  std::map<std::string, uint64_t> first_position;  // idempotency key -> where every answer says
  auto note = [&](std::string what) {
    std::lock_guard lock(mu);
    wrong.push_back(std::move(what));
  };
  for (int rounds = 0; rounds < kRounds; ++rounds) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < kKeys; ++k) {
          // Every thread sends every keyed request of the round, so retries meet in one group,
          // across two groups (one in flight) and against the store.
          std::string key = "req-" + std::to_string(rounds) + "-" + std::to_string(k);
          std::string stream = "case-y-" + std::to_string(k % kStreams);
          auto r = f.log->Append(Req(stream, ExpectedVersion::Any(),
                                     {Ev("case.noted", "{\"k\":" + std::to_string(k) + "}")}, key));
          if (!r.ok()) {
            note(key + ": " + r.status().ToString());
            continue;
          }
          {
            std::lock_guard lock(mu);
            auto [it, fresh] = first_position.emplace(key, r->first_position);
            if (!fresh && it->second != r->first_position) wrong.push_back(key + ": two positions");
          }
          // Exact versions on a stream of its own, which no one else writes.
          std::string own = "case-z-" + std::to_string(t);
          uint64_t v = f.log->StreamVersion(own).value();
          auto mine = f.log->Append(
              Req(own, v == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(v),
                  {Ev("case.noted")}));
          if (!mine.ok() || mine->stream_version != v + 1) note(own + ": lost its own version");
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());
  // Each key appended once, and every thread's own stream complete.
  CHECK(f.log->LastPosition() == static_cast<uint64_t>(kRounds * (kKeys + kThreads * kKeys)));
  for (int s = 0; s < kStreams; ++s) {
    auto events =
        f.log->ReadStream("case-y-" + std::to_string(s), 1, Direction::kForward, 1000000).value();
    const int per_round = kKeys / kStreams + (s < kKeys % kStreams ? 1 : 0);
    CHECK(events.size() == static_cast<size_t>(kRounds * per_round));
  }
  // The chain, the positions and the stream index hold, one entry per event.
  f.log.reset();
  auto report = VerifyLog(f.options.path);
  REQUIRE(report.ok());
  INFO(report->problem);
  CHECK(report->ok);
  CHECK(report->index_entries_checked == report->events_checked);
}
