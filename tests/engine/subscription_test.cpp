#include <catch2/catch.hpp>

#include <atomic>

#include <thread>

#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;
using std::chrono::milliseconds;

namespace {
void AppendN(LogFixture& f, int n, const std::string& stream = "case-x-1") {
  for (int i = 0; i < n; ++i) {
    REQUIRE(f.log->Append(Req(stream, ExpectedVersion::Any(), {Ev("case.noted")})).ok());
  }
}

std::vector<uint64_t> Drain(Subscription& s, size_t want) {
  std::vector<uint64_t> got;
  while (got.size() < want) {
    auto batch = s.Next(7, milliseconds(5000));
    REQUIRE(batch.ok());
    REQUIRE_FALSE(batch->empty());  // events exist: Next must not time out
    for (auto& e : *batch) got.push_back(e->position);
  }
  return got;
}
}  // namespace

TEST_CASE("a subscription catches up from the store, then goes live", "[subscription]") {
  LogFixture f;
  AppendN(f, 30);
  f.Reopen();  // the live window is empty after a restart: catch-up must read the store
  auto sub = f.log->Subscribe(5);
  auto got = Drain(*sub, 26);
  CHECK(got.front() == 5);
  CHECK(got.back() == 30);
  auto none = sub->Next(10, milliseconds(0));
  REQUIRE(none.ok());
  CHECK(none->empty());

  // Live: a waiting subscriber wakes when the writer publishes, without polling.
  // Catch2's assertions are not thread-safe: the writer counts, the test thread checks.
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 0; i < 3; ++i) {
      if (f.log->Append(Req("ticket-1", ExpectedVersion::Any(), {Ev("case.noted")})).ok()) {
        ++appended;
      }
    }
  });
  auto live = Drain(*sub, 3);
  writer.join();
  CHECK(appended == 3);
  CHECK(live == std::vector<uint64_t>{31, 32, 33});
  CHECK(sub->next_position() == 34);
}

TEST_CASE("a slow subscriber falls back to the store and never blocks the writer", "[subscription]") {
  LogFixture f;
  f.options.live_buffer_events = 16;
  f.Reopen();
  auto slow = f.log->Subscribe(1);
  AppendN(f, 100);  // far more than the live window: the writer must not wait for `slow`
  CHECK(f.log->LastPosition() == 100);
  auto got = Drain(*slow, 100);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == i + 1);
  auto all = f.log->ReadAll(1, 100).value();
  auto again = f.log->Subscribe(90);
  auto tail = again->Next(100, milliseconds(0)).value();
  REQUIRE(tail.size() == 11);
  CHECK(tail[0]->hash == all[89].hash);
}

TEST_CASE("cancel and close end a waiting subscription", "[subscription]") {
  LogFixture f;
  auto sub = f.log->Subscribe(1);
  std::thread canceller([&] { sub->Cancel(); });
  auto r = sub->Next(10, milliseconds(60'000));
  canceller.join();
  CHECK(r.status().code() == Status::Code::kShutdown);

  auto sub2 = f.log->Subscribe(1);
  std::thread closer([&] { f.log.reset(); });
  auto r2 = sub2->Next(10, milliseconds(60'000));
  closer.join();
  CHECK(r2.status().code() == Status::Code::kShutdown);
}

TEST_CASE("a subscription from the future waits for that position", "[subscription]") {
  LogFixture f;
  AppendN(f, 2);
  auto sub = f.log->Subscribe(4);
  AppendN(f, 1);
  CHECK(sub->Next(10, milliseconds(0)).value().empty());
  AppendN(f, 1);
  auto r = sub->Next(10, milliseconds(0)).value();
  REQUIRE(r.size() == 1);
  CHECK(r[0]->position == 4);
}
