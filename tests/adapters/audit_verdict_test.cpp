// The console's verdict on a stream's hash chain, on a real log: intact, then with an event
// altered behind the engine's back through a raw RocksDB handle (as tests/engine/tamper_test.cpp
// does), when it must name the broken position and the events it no longer vouches for.
#include <rocksdb/db.h>

#include <catch2/catch.hpp>

#include "adapters/web/audit.h"
#include "engine/log/codec.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

TEST_CASE("the audit verdict says Catena integra, or where the chain breaks", "[web][tamper]") {
  LogFixture f;
  for (int i = 0; i < 6; ++i) {
    std::string s = i % 2 ? "case-x-b" : "case-x-a";
    REQUIRE(f.log
                ->Append(Req(s, ExpectedVersion::Any(),
                             {Ev("case.noted", "{\"amount\":" + std::to_string(100 + i) + "}")}))
                .ok());
  }
  auto intact = VerifyStream(*f.log, "case-x-a");
  REQUIRE(intact.ok());
  auto v = web::AuditVerdict(*intact);
  CHECK(v["ok"] == true);
  CHECK(v["heading"] == "Catena integra");
  CHECK(v["text"].get<std::string>().find("Tutti i 3 eventi") != std::string::npos);

  const std::string path = f.options.path;
  f.log.reset();
  {
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"events", {}},
                                                        {"streams", {}},
                                                        {"idempotency", {}},
                                                        {"side", {}}};
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), path, cfs, &h, &db).ok());
    std::string value;
    REQUIRE(db->Get({}, h[1], codec::PositionKey(3), &value).ok());
    value.replace(value.find("102"), 3, "999");
    codec::SealEncodedEvent(&value);  // resealed: only the next link can tell
    REQUIRE(db->Put({}, h[1], codec::PositionKey(3), value).ok());
    for (auto* c : h) db->DestroyColumnFamilyHandle(c);
    delete db;
  }
  f.Reopen();
  auto broken = VerifyStream(*f.log, "case-x-a");
  REQUIRE(broken.ok());
  v = web::AuditVerdict(*broken);
  CHECK(v["ok"] == false);
  CHECK(v["heading"] == "Catena non integra alla posizione 4");
  const std::string text = v["text"];
  CHECK(text.find("interrotta alla posizione 4") != std::string::npos);
  CHECK(text.find("Un evento di questa pratica non è più garantito") != std::string::npos);
  REQUIRE(broken->links.size() == 3);
  CHECK(broken->links[0].ok);
  CHECK_FALSE(broken->links[1].ok);
  CHECK(broken->links[2].ok);
}
