// Edits, deletions and swaps made behind the engine's back, through a raw RocksDB handle:
// verify names the exact position each time.
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
  std::string Get(int cf, const std::string& k) {
    std::string v;
    REQUIRE(db->Get({}, h[cf], k, &v).ok());
    return v;
  }
  void Put(int cf, const std::string& k, const std::string& v) {
    REQUIRE(db->Put({}, h[cf], k, v).ok());
  }
  void Delete(int cf, const std::string& k) { REQUIRE(db->Delete({}, h[cf], k).ok()); }
};

constexpr int kEvents = 1, kStreams = 2;

// Ten events alternating between two streams, then the engine is closed.
std::string MakeLog(TempDir& dir) {
  LogFixture f;
  std::string path = dir.sub("log");
  f.options.path = path;
  f.Reopen();
  for (int i = 0; i < 10; ++i) {
    std::string s = i % 2 ? "case-x-b" : "case-x-a";
    REQUIRE(f.log
                ->Append(Req(s, ExpectedVersion::Any(),
                             {Ev("case.noted", "{\"amount\":" + std::to_string(100 + i) + "}")}))
                .ok());
  }
  f.log.reset();
  return path;
}

VerifyReport Verify(const std::string& path) {
  auto r = VerifyLog(path);
  REQUIRE(r.ok());
  return r.value();
}

}  // namespace

TEST_CASE("an untouched log verifies", "[tamper]") {
  TempDir dir;
  auto path = MakeLog(dir);
  auto r = Verify(path);
  CHECK(r.ok);
  CHECK(r.events_checked == 10);
  CHECK(r.index_entries_checked == 10);
}

TEST_CASE("verify names the position of each kind of tampering", "[tamper]") {
  TempDir dir;
  auto path = MakeLog(dir);
  const auto head = Verify(path).head_hash;
  uint64_t want = 0;      // the position verify must name; 0: the log must still verify
  std::string want_text;  // a phrase of the problem it must report
  {
    RawDb raw(path);
    SECTION("an edited event") {
      std::string v = raw.Get(kEvents, codec::PositionKey(5));
      auto at = v.find("104");
      REQUIRE(at != std::string::npos);
      v.replace(at, 3, "999");
      raw.Put(kEvents, codec::PositionKey(5), v);
      want = 5, want_text = "do not match its hash";
    }
    SECTION("an edited event whose own hash was recomputed") {
      std::string v = raw.Get(kEvents, codec::PositionKey(5));
      v.replace(v.find("104"), 3, "999");
      codec::SealEncodedEvent(&v);
      raw.Put(kEvents, codec::PositionKey(5), v);
      want = 6, want_text = "hash of position 5";
    }
    SECTION("a deleted event") {
      raw.Delete(kEvents, codec::PositionKey(5));
      want = 5, want_text = "position 5 is missing";
    }
    SECTION("two swapped events") {
      std::string a = raw.Get(kEvents, codec::PositionKey(5));
      std::string b = raw.Get(kEvents, codec::PositionKey(6));
      raw.Put(kEvents, codec::PositionKey(5), b);
      raw.Put(kEvents, codec::PositionKey(6), a);
      want = 5, want_text = "moved or swapped";
    }
    SECTION("a deleted index entry") {
      raw.Delete(kStreams, codec::StreamIndexKey("case-x-a", 3));
      want = 5, want_text = "no entry case-x-a v3";
    }
    SECTION("an index entry pointing elsewhere") {
      raw.Put(kStreams, codec::StreamIndexKey("case-x-a", 3), codec::PositionKey(7));
      want = 5, want_text = "no entry case-x-a v3";
    }
    SECTION("an index entry with no event") {
      raw.Put(kStreams, codec::StreamIndexKey("case-x-a", 9), codec::PositionKey(42));
      want = 42, want_text = "with no such event";
    }
    SECTION("an event copied to a new position") {
      raw.Put(kEvents, codec::PositionKey(11), raw.Get(kEvents, codec::PositionKey(5)));
      want = 11, want_text = "says it is position 5";
    }
    SECTION("a truncated tail verifies, but the head hash changes") {
      raw.Delete(kEvents, codec::PositionKey(10));
      raw.Delete(kStreams, codec::StreamIndexKey("case-x-b", 5));
    }
  }
  auto r = Verify(path);
  INFO(r.problem);
  if (want == 0) {
    CHECK(r.ok);
    CHECK(r.events_checked == 9);
    CHECK(r.head_hash != head);
  } else {
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad_position == want);
    CHECK_THAT(r.problem, Catch::Contains(want_text));
  }
}

TEST_CASE("a hash is shown as 64 lower-case hex digits, byte by byte", "[tamper]") {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(i * 8 + 7);
  CHECK(HashToHex(h) == "070f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
  CHECK(HashToHex(Hash{}) == std::string(64, '0'));
  // SHA-256 of "abc" (FIPS 180-2) through the log's own hash function, which leaves out the
  // stored value's last 32 bytes (the hash itself).
  CHECK(HashToHex(codec::ComputeHash(std::string("abc") + std::string(32, '\0'))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
