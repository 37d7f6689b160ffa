#include <catch2/catch.hpp>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

TEST_CASE("positions are global and gap-free, versions per stream start at 1", "[append]") {
  LogFixture f;
  auto a = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.started"), Ev("case.noted")}));
  auto b = f.log->Append(Req("ticket-9", ExpectedVersion::Any(), {Ev("ticket.opened")}));
  auto c = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.suspended")}));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(a->first_position == 1);
  CHECK(a->last_position == 2);
  CHECK(a->stream_version == 2);
  CHECK(b->first_position == 3);
  CHECK(b->stream_version == 1);
  CHECK(c->first_position == 4);
  CHECK(c->stream_version == 3);
  CHECK(c->events.at(0)->version == 3);
  CHECK(f.log->LastPosition() == 4);
  auto all = f.log->ReadAll(1, 100).value();
  REQUIRE(all.size() == 4);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].position == i + 1);
}

TEST_CASE("expected version: any, no stream, stream exists, exact", "[append]") {
  LogFixture f;
  auto app = [&](ExpectedVersion ev) {
    return f.log->Append(Req("case-x-1", ev, {Ev("case.noted")}));
  };
  SECTION("stream exists on a missing stream is a conflict naming no version") {
    auto r = app(ExpectedVersion::StreamExists());
    CHECK(r.status().IsConflict());
    CHECK_FALSE(r.status().actual_version().has_value());
    CHECK_THAT(r.status().message(), Catch::Contains("does not exist"));
  }
  SECTION("exact on a missing stream is a conflict") {
    CHECK(app(ExpectedVersion::Exact(1)).status().IsConflict());
  }
  REQUIRE(app(ExpectedVersion::NoStream()).ok());
  SECTION("no stream on an existing stream names the actual version") {
    auto r = app(ExpectedVersion::NoStream());
    CHECK(r.status().IsConflict());
    CHECK(r.status().actual_version() == 1u);
    CHECK_THAT(r.status().message(), Catch::Contains("is at version 1"));
  }
  REQUIRE(app(ExpectedVersion::StreamExists()).ok());
  REQUIRE(app(ExpectedVersion::Exact(2)).ok());
  REQUIRE(app(ExpectedVersion::Any()).ok());
  auto stale = app(ExpectedVersion::Exact(2));
  CHECK(stale.status().IsConflict());
  CHECK(stale.status().actual_version() == 4u);
  CHECK(f.log->StreamVersion("case-x-1").value() == 4);
  CHECK(f.log->LastPosition() == 4);
}

TEST_CASE("an idempotency key makes a retry return the first result", "[append][idempotency]") {
  LogFixture f;
  auto first = f.log->Append(Req("case-x-1", ExpectedVersion::NoStream(),
                                 {Ev("case.started", R"({"n":1})"), Ev("case.noted")}, "req-1"));
  REQUIRE(first.ok());
  REQUIRE_FALSE(first->deduplicated);
  REQUIRE(f.log->Append(Req("case-x-2", ExpectedVersion::Any(), {Ev("case.started")})).ok());

  SECTION("in a later group commit, and after a restart") {
    for (int round = 0; round < 2; ++round) {
      // The same request again: a client that did not see the answer retries it verbatim,
      // with the same (now stale) expected version.
      auto again = f.log->Append(Req("case-x-1", ExpectedVersion::NoStream(),
                                     {Ev("case.started", R"({ "n" : 1 })"), Ev("case.noted")}, "req-1"));
      REQUIRE(again.ok());
      CHECK(again->deduplicated);
      CHECK(again->first_position == first->first_position);
      CHECK(again->last_position == first->last_position);
      CHECK(again->stream_version == 2);
      REQUIRE(again->events.size() == 2);
      CHECK(again->events[0]->id == first->events[0]->id);
      CHECK(f.log->LastPosition() == 3);
      f.Reopen();
    }
  }
  SECTION("the same key for a different request is refused") {
    auto other = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.noted")}, "req-1"));
    CHECK(other.status().IsInvalidArgument());
    CHECK_THAT(other.status().message(), Catch::Contains("different request"));
    CHECK(f.log->LastPosition() == 3);
  }
  SECTION("a failed request records no key") {
    auto bad = f.log->Append(Req("case-x-3", ExpectedVersion::Exact(5), {Ev("case.noted")}, "req-2"));
    CHECK(bad.status().IsConflict());
    auto good = f.log->Append(Req("case-x-3", ExpectedVersion::NoStream(), {Ev("case.noted")}, "req-2"));
    CHECK(good.ok());
    CHECK_FALSE(good->deduplicated);
  }
}

namespace {

// A file system whose WAL writes wait at a gate while it is shut: the writer thread is then held
// in one group's write, and every append made meanwhile queues for the next group, all of it.
class GatedFs : public rocksdb::FileSystemWrapper {
 public:
  GatedFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "GatedFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<File>(std::move(*result), this);
    }
    return s;
  }
  void Shut() {
    std::lock_guard lock(mu_);
    shut_ = true;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      shut_ = false;
    }
    cv_.notify_all();
  }
  // Waits until a WAL write is held at the gate.
  void WaitHeld() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return held_ > 0; });
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, GatedFs* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      fs_->Pass();
      return target()->Append(data, o, dbg);
    }

   private:
    GatedFs* fs_;
  };
  void Pass() {
    std::unique_lock lock(mu_);
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !shut_; });
    --held_;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool shut_ = false;
  int held_ = 0;
};

using AppendCb = std::function<void(Result<AppendResult>)>;

}  // namespace

// Runs `queue` while the writer is held in the WAL write of another append, so that every append
// `queue` makes lands in the next group commit; returns once they are all answered.
std::vector<Result<AppendResult>> InOneGroup(LogFixture& f, GatedFs& gate, size_t n,
                                             const std::function<void(AppendCb)>& queue) {
  gate.Shut();
  // Catch2's assertions are not thread-safe: threads keep results, the test thread checks them.
  Result<AppendResult> held = Status::Shutdown("not run");
  std::thread first([&] {
    held = f.log->Append(Req("case-x-0", ExpectedVersion::Any(), {Ev("case.noted")}));
  });
  gate.WaitHeld();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<AppendResult>> results;
  queue([&](Result<AppendResult> r) {
    std::lock_guard lock(mu);
    results.push_back(std::move(r));
    cv.notify_all();
  });
  gate.Open();
  first.join();
  REQUIRE(held.ok());
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return results.size() == n; });
  return results;
}

TEST_CASE("the same key several times in one group commit appends once", "[append][idempotency]") {
  auto gate = std::make_shared<GatedFs>();
  LogFixture f;
  f.log.reset();
  f.options.env = rocksdb::NewCompositeEnv(gate);
  f.Reopen();
  auto results = InOneGroup(f, *gate, 8, [&f](const AppendCb& done) {
    for (int i = 0; i < 8; ++i) {
      f.log->AppendAsync(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.noted")}, "same"), done);
    }
  });
  int fresh = 0;
  for (auto& r : results) {
    REQUIRE(r.ok());
    CHECK(r->first_position == 2);
    fresh += r->deduplicated ? 0 : 1;
  }
  CHECK(fresh == 1);
  CHECK(f.log->LastPosition() == 2);
  // The same key with other data in that group is refused as a reused key.
  auto pair = InOneGroup(f, *gate, 2, [&f](const AppendCb& done) {
    for (const char* data : {R"({"n":1})", R"({"n":2})"}) {
      f.log->AppendAsync(Req("case-x-2", ExpectedVersion::Any(), {Ev("case.noted", data)}, "twice"),
                         done);
    }
  });
  CHECK(pair[0].ok());
  REQUIRE_FALSE(pair[1].ok());
  CHECK(pair[1].status().Is(Status::SubCode::kIdempotencyKeyReused));
}

TEST_CASE("ids are UUIDv7, times come from the injected clock and never run backwards", "[append]") {
  LogFixture f;
  auto a = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.started")})).value();
  f.clock.Advance(std::chrono::seconds(-30));  // a clock step backwards
  auto b = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.noted")})).value();
  f.clock.Advance(std::chrono::seconds(90));
  auto c = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.noted")})).value();
  CHECK(a.events[0]->time == TimePoint(std::chrono::seconds(1'790'000'000)));
  CHECK(b.events[0]->time == a.events[0]->time);
  CHECK(c.events[0]->time == a.events[0]->time + std::chrono::seconds(60));
  CHECK((a.events[0]->id[6] >> 4) == 7);
  CHECK((a.events[0]->id[8] & 0xc0) == 0x80);
  CHECK(a.events[0]->id < b.events[0]->id);
  CHECK(b.events[0]->id < c.events[0]->id);
  CHECK(UuidFromString(UuidToString(c.events[0]->id)) == c.events[0]->id);
  CHECK(FormatTime(a.events[0]->time) == "2026-09-21T14:13:20.000000Z");
}

TEST_CASE("every instant a client may send prints, before 1970 and after 2262", "[time]") {
  using std::chrono::microseconds;
  // 2561 is past what the system clock's nanoseconds hold; a view asked as_of then must answer.
  CHECK(FormatTime(TimePoint(std::chrono::seconds(18'667'763'584)) + microseconds(722'840)) ==
        "2561-07-23T01:53:04.722840Z");
  CHECK(FormatTime(TimePoint(std::chrono::seconds(253'402'300'799))) ==
        "9999-12-31T23:59:59.000000Z");
  CHECK(FormatTime(TimePoint(microseconds(-1))) == "1969-12-31T23:59:59.999999Z");
  CHECK(FormatTime(TimePoint{}) == "1970-01-01T00:00:00.000000Z");
}

TEST_CASE("the hash chain links every event to the one before", "[append][hash]") {
  LogFixture f;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.log->Append(Req("case-x-" + std::to_string(i % 2), ExpectedVersion::Any(), {Ev("case.noted")})).ok());
  }
  auto all = f.log->ReadAll(1, 10).value();
  CHECK(all[0].prev_hash == Hash{});
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].prev_hash == all[i - 1].hash);
  f.Reopen();  // the chain continues from the stored head after a restart
  auto r = f.log->Append(Req("case-x-9", ExpectedVersion::Any(), {Ev("case.noted")})).value();
  CHECK(r.events[0]->prev_hash == all.back().hash);
  CHECK(r.first_position == 6);
}

TEST_CASE("given event ids are kept", "[append]") {
  LogFixture f;
  NewEvent e = Ev("case.started");
  e.id = UuidFromString("01890a5d-ac96-774b-bcce-b302099a8057");
  e.correlation_id = "corr-1";
  e.causation_id = "cmd-1";
  auto r = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {e})).value();
  CHECK(UuidToString(r.events[0]->id) == "01890a5d-ac96-774b-bcce-b302099a8057");
  auto stored = f.log->ReadAll(1, 1).value()[0];
  CHECK(stored.correlation_id == "corr-1");
  CHECK(stored.causation_id == "cmd-1");
  CHECK(stored.tenant == "comune-forli");
}
