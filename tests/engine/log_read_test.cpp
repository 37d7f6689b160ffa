#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "engine/log/stream_versions.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {
void Fill(LogFixture& f) {
  // case-x-1 gets versions 1..10 at odd positions, case-x-2 the even ones.
  for (int i = 0; i < 10; ++i) {
    for (const char* s : {"case-x-1", "case-x-2"}) {
      REQUIRE(f.log
                  ->Append(Req(s, ExpectedVersion::Any(),
                               {Ev("case.noted", "{\"i\":" + std::to_string(i) + "}")}))
                  .ok());
    }
  }
}
}  // namespace

TEST_CASE("a stream reads forwards and backwards from a version, with limits", "[read]") {
  LogFixture f;
  Fill(f);
  auto fwd = f.log->ReadStream("case-x-1", 3, Direction::kForward, 4).value();
  REQUIRE(fwd.size() == 4);
  CHECK(fwd[0].version == 3);
  CHECK(fwd[3].version == 6);
  CHECK(fwd[0].position == 5);
  for (auto& e : fwd) CHECK(e.stream == "case-x-1");

  auto back = f.log->ReadStream("case-x-2", 5, Direction::kBackward, 100).value();
  REQUIRE(back.size() == 5);
  CHECK(back[0].version == 5);
  CHECK(back[4].version == 1);

  auto newest = f.log->ReadStream("case-x-2", UINT64_MAX, Direction::kBackward, 1).value();
  REQUIRE(newest.size() == 1);
  CHECK(newest[0].version == 10);
  CHECK(newest[0].position == 20);

  CHECK(f.log->ReadStream("case-x-1", 11, Direction::kForward, 10).value().empty());
  CHECK(f.log->ReadStream("case-x-3", 1, Direction::kForward, 10).value().empty());
  CHECK(f.log->ReadStream("case-x-1", 1, Direction::kForward, 0).value().empty());
  // A stream whose id is a prefix of another never sees the other's events.
  REQUIRE(f.log->Append(Req("case-x", ExpectedVersion::Any(), {Ev("case.noted")})).ok());
  CHECK(f.log->ReadStream("case-x", 1, Direction::kForward, 100).value().size() == 1);
  CHECK(f.log->StreamVersion("case-x").value() == 1);
  CHECK(f.log->ReadStream("bad id", 1, Direction::kForward, 1).status().IsInvalidArgument());
}

TEST_CASE("the whole log reads from a position with a limit", "[read]") {
  LogFixture f;
  Fill(f);
  auto page = f.log->ReadAll(7, 5).value();
  REQUIRE(page.size() == 5);
  CHECK(page.front().position == 7);
  CHECK(page.back().position == 11);
  CHECK(f.log->ReadAll(0, 1).value().at(0).position == 1);
  CHECK(f.log->ReadAll(21, 10).value().empty());
  CHECK(f.log->ReadAll(20, 10).value().size() == 1);
}

TEST_CASE("current version and last position survive a restart", "[read]") {
  LogFixture f;
  CHECK(f.log->LastPosition() == 0);
  CHECK(f.log->StreamVersion("case-x-1").value() == 0);
  Fill(f);
  f.Reopen();
  CHECK(f.log->LastPosition() == 20);
  CHECK(f.log->StreamVersion("case-x-1").value() == 10);
  auto r = f.log->Append(Req("case-x-1", ExpectedVersion::Exact(10), {Ev("case.closed")}));
  REQUIRE(r.ok());
  CHECK(r->first_position == 21);
  CHECK(r->stream_version == 11);
}

TEST_CASE("streams whose ids share a beginning read apart from the tables too", "[read]") {
  LogFixture f;
  // The stream index keeps a filter per stream id: ids that extend one another must not hide
  // or lend events, whether a read meets them in memory or in the tables a restart writes.
  const std::vector<std::pair<std::string, int>> streams = {
      {"case-a-1", 2}, {"case-a-10", 3}, {"case-a-100", 4}, {"case-a-1.0", 1}};
  for (const auto& [s, n] : streams) {
    for (int i = 0; i < n; ++i) {
      REQUIRE(f.log->Append(Req(s, ExpectedVersion::Any(), {Ev("case.noted")})).ok());
    }
  }
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round << (round == 0 ? " (memory)" : " (tables, after a restart)"));
    for (const auto& [s, n] : streams) {
      INFO(s);
      auto fwd = f.log->ReadStream(s, 1, Direction::kForward, 100).value();
      REQUIRE(fwd.size() == static_cast<size_t>(n));
      for (const auto& e : fwd) CHECK(e.stream == s);
      auto back = f.log->ReadStream(s, UINT64_MAX, Direction::kBackward, 100).value();
      REQUIRE(back.size() == static_cast<size_t>(n));
      CHECK(back.front().version == static_cast<uint64_t>(n));
      CHECK(f.log->StreamVersion(s).value() == static_cast<uint64_t>(n));
      CHECK(f.log->StreamIndex(s, 100).value().size() == static_cast<size_t>(n));
    }
    for (const char* missing : {"case-a", "case-a-1000", "case-a-2", "case-a-0"}) {
      INFO(missing);
      CHECK(f.log->StreamVersion(missing).value() == 0);
      CHECK(f.log->ReadStream(missing, 1, Direction::kForward, 100).value().empty());
      CHECK(f.log->ReadStream(missing, UINT64_MAX, Direction::kBackward, 100).value().empty());
      CHECK(f.log->StreamIndex(missing, 100).value().empty());
    }
    f.Reopen();
  }
}

TEST_CASE("a version read whole from the log is kept for the append, and never an old one",
          "[read]") {
  LogFixture f;
  Fill(f);
  f.Reopen();
  CHECK(f.log->Memory().cache_entries == 0);
  // Part of a stream, or read backwards: its newest version is not known, nothing is kept.
  REQUIRE(f.log->ReadStream("case-x-1", 1, Direction::kForward, 3).value().size() == 3);
  REQUIRE(f.log->ReadStream("case-x-1", UINT64_MAX, Direction::kBackward, 100).value().size() ==
          10);
  CHECK(f.log->Memory().cache_entries == 0);
  // Read to its end: kept, and the append that decided on it is checked against it.
  REQUIRE(f.log->ReadStream("case-x-1", 4, Direction::kForward, 100).value().size() == 7);
  CHECK(f.log->Memory().cache_entries == 1);
  CHECK(f.log->Append(Req("case-x-1", ExpectedVersion::Exact(9), {Ev("case.noted")}))
            .status()
            .IsConflict());
  REQUIRE(f.log->Append(Req("case-x-1", ExpectedVersion::Exact(10), {Ev("case.noted")})).ok());
  CHECK(f.log->StreamVersion("case-x-1").value() == 11);
  // A version sought for a reader is kept too.
  CHECK(f.log->StreamVersion("case-x-2").value() == 10);
  CHECK(f.log->Memory().cache_entries == 2);
}

TEST_CASE("readers racing the writer never leave it an old version", "[read]") {
  // Each thread reads the stream whole and appends at the version it read: exactly one append
  // per version may win. A version kept from a read that a write overtook would let two appends
  // claim the same version, which the contiguous versions below would show. A small cache makes
  // the writer drop and refill it all the time.
  LogFixture f;
  f.options.stream_cache_entries = 64;
  f.Reopen();
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string other = "case-y-" + std::to_string(t * 1000 + i);
        auto read = f.log->ReadStream("case-r-1", 1, Direction::kForward, 100'000);
        if (!read.ok()) continue;
        const uint64_t v = read->empty() ? 0 : read->back().version;
        auto expected = v == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(v);
        if (f.log->Append(Req("case-r-1", expected, {Ev("case.noted")})).ok()) won.fetch_add(1);
        // Writes to other streams move the cache under the readers.
        (void)f.log->Append(Req(other, ExpectedVersion::Any(), {Ev("case.noted")}));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto all = f.log->ReadStream("case-r-1", 1, Direction::kForward, 100'000).value();
  REQUIRE(all.size() == static_cast<size_t>(won.load()));
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].version == i + 1);
  CHECK(f.log->StreamVersion("case-r-1").value() == all.size());
}

TEST_CASE("a version remembered after a write to its shard is dropped", "[read]") {
  const std::string s = "case-v-1";
  // A stream of the same shard as s: its Set moves s's epoch.
  StreamVersions probe(64 * 16);
  std::string neighbour;
  for (int i = 0; neighbour.empty() && i < 10'000; ++i) {
    const std::string c = "case-n-" + std::to_string(i);
    const uint64_t before = probe.Epoch(s);
    probe.Set(c, 1);
    if (probe.Epoch(s) != before) neighbour = c;
  }
  REQUIRE_FALSE(neighbour.empty());
  StreamVersions v(64 * 16);
  const uint64_t epoch = v.Epoch(s);
  v.Set(neighbour, 2);  // a write overtook the read of s
  v.Remember(s, 4, epoch);
  CHECK_FALSE(v.Find(s).has_value());
  v.Remember(s, 4, v.Epoch(s));
  CHECK(v.Find(s) == 4);
  v.Remember(s, 3, v.Epoch(s));  // never replaces what is known
  CHECK(v.Find(s) == 4);
  v.Set(s, 5);
  CHECK(v.Find(s) == 5);
  // A full shard is not emptied for a read: only the writer evicts.
  StreamVersions full(0);  // one entry per shard
  full.Set(neighbour, 1);
  full.Remember(s, 4, full.Epoch(s));
  CHECK_FALSE(full.Find(s).has_value());
  CHECK(full.Find(neighbour) == 1);
}
