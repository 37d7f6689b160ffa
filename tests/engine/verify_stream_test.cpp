// The chain checked around one stream on the live log (VerifyStream), after edits made behind the
// engine's back through a raw RocksDB handle, as in tamper_test.cpp: the stream's events that
// still link are vouched for, and the first broken position is named.
#include <rocksdb/db.h>

#include <catch2/catch.hpp>

#include "engine/log/codec.h"
#include "engine/log/verify.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {

struct RawDb {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"events", {}},
                                                        {"streams", {}},
                                                        {"idempotency", {}},
                                                        {"side", {}}};
    auto s = rocksdb::DB::Open(rocksdb::Options(), path, cfs, &h, &db);
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  ~RawDb() {
    for (auto* c : h) db->DestroyColumnFamilyHandle(c);
    delete db;
  }
  std::string Get(const std::string& k) {
    std::string v;
    REQUIRE(db->Get({}, h[1], k, &v).ok());
    return v;
  }
  void Put(const std::string& k, const std::string& v) { REQUIRE(db->Put({}, h[1], k, v).ok()); }
  void Delete(const std::string& k) { REQUIRE(db->Delete({}, h[1], k).ok()); }
};

// Ten events alternating between two streams: case-x-a at odd positions, case-x-b at even ones.
void Fill(LogFixture& f) {
  for (int i = 0; i < 10; ++i) {
    std::string s = i % 2 ? "case-x-b" : "case-x-a";
    REQUIRE(f.log
                ->Append(Req(s, ExpectedVersion::Any(),
                             {Ev("case.noted", "{\"amount\":" + std::to_string(100 + i) + "}")}))
                .ok());
  }
}

StreamVerifyReport Check(LogFixture& f, const std::string& stream) {
  auto r = VerifyStream(*f.log, stream);
  REQUIRE(r.ok());
  return r.value();
}

}  // namespace

TEST_CASE("an untouched stream verifies, event by event", "[tamper]") {
  LogFixture f;
  Fill(f);
  auto r = Check(f, "case-x-a");
  CHECK(r.ok);
  CHECK(r.first_bad_position == 0);
  REQUIRE(r.links.size() == 5);
  for (size_t i = 0; i < r.links.size(); ++i) {
    CHECK(r.links[i].ok);
    CHECK(r.links[i].version == i + 1);
    CHECK(r.links[i].position == 2 * i + 1);
    REQUIRE(r.links[i].event);
    CHECK(r.links[i].event->stream == "case-x-a");
  }
  CHECK(Check(f, "case-x-none").links.empty());
}

TEST_CASE("a stream check names the position of each kind of tampering", "[tamper]") {
  LogFixture f;
  Fill(f);
  const std::string path = f.options.path;
  f.log.reset();
  uint64_t want = 0;
  std::string want_text;
  std::vector<uint64_t> bad_versions;  // of case-x-a
  {
    RawDb raw(path);
    SECTION("an edited event of the stream") {
      std::string v = raw.Get(codec::PositionKey(5));
      v.replace(v.find("104"), 3, "999");
      raw.Put(codec::PositionKey(5), v);
      want = 5, want_text = "do not match its hash", bad_versions = {3};
    }
    SECTION("an edited event whose own hash was recomputed: the next link breaks") {
      std::string v = raw.Get(codec::PositionKey(5));
      v.replace(v.find("104"), 3, "999");
      codec::SealEncodedEvent(&v);
      raw.Put(codec::PositionKey(5), v);
      want = 6, want_text = "hash of position 5", bad_versions = {3};
    }
    SECTION("the event before one of the stream's was removed") {
      raw.Delete(codec::PositionKey(4));
      want = 4, want_text = "position 4 is missing", bad_versions = {2, 3};
    }
    SECTION("the next event, of another stream, altered: it no longer vouches for this one") {
      // Its prev_hash still names position 7, but bytes that fail their own hash prove nothing:
      // whoever rewrote 7 could have rewritten that prev_hash too.
      std::string v = raw.Get(codec::PositionKey(8));
      v.replace(v.find("107"), 3, "999");
      raw.Put(codec::PositionKey(8), v);
      want = 8, want_text = "do not match its hash", bad_versions = {4};
    }
  }
  f.Reopen();
  auto r = Check(f, "case-x-a");
  INFO(r.problem);
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_position == want);
  CHECK_THAT(r.problem, Catch::Contains(want_text));
  for (const auto& l : r.links) {
    const bool bad =
        std::find(bad_versions.begin(), bad_versions.end(), l.version) != bad_versions.end();
    CHECK(l.ok == !bad);
  }
}
