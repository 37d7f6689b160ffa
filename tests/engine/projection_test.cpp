#include <catch2/catch.hpp>

#include "engine/log_fixture.h"
#include "engine/views/projection.h"

using namespace procedo;
using namespace procedo::testing;
using std::chrono::milliseconds;

namespace {

// Counts events per stream and keeps the last type: enough to see double or missed applies.
class CountingProjection : public Projection {
 public:
  std::string name() const override { return "counts"; }
  Status Apply(const Event& e, ViewWriter& rows) override {
    if (e.type == "case.poisoned") return Status::InvalidArgument("poison");
    auto cur = rows.Get(e.stream);
    if (!cur.ok()) return cur.status();
    int n = cur->has_value() ? std::stoi(**cur) : 0;
    rows.Put(e.stream, std::to_string(n + 1));
    rows.Put("last-type", e.type);
    return Status::Ok();
  }
};

struct Views {
  TempDir dir;
  std::unique_ptr<ViewStore> store;
  Views() { Reopen(); }
  void Reopen() {
    store.reset();
    store = std::move(ViewStore::Open(dir.sub("views"), {"counts"})).value();
  }
};

void AppendTo(LogFixture& f, const std::string& stream, int n, const std::string& type = "case.noted") {
  for (int i = 0; i < n; ++i) REQUIRE(f.log->Append(Req(stream, ExpectedVersion::Any(), {Ev(type)})).ok());
}

}  // namespace

TEST_CASE("catch-up applies every event once and stores the checkpoint", "[projection]") {
  LogFixture f;
  Views v;
  CountingProjection p;
  AppendTo(f, "case-x-1", 3);
  AppendTo(f, "case-x-2", 2);
  {
    ProjectionRunner r(*f.log, *v.store, {&p});
    std::vector<uint64_t> seen;
    REQUIRE(r.CatchUp([&](uint64_t pos, uint64_t head) { seen.push_back(pos); CHECK(head == 5); }).ok());
    CHECK(seen.back() == 5);
    CHECK(r.position() == 5);
  }
  CHECK(v.store->Get("counts", "case-x-1").value() == "3");
  CHECK(v.store->Checkpoint("counts") == 5);
  // A restart resumes from the checkpoint: nothing is applied twice.
  AppendTo(f, "case-x-1", 1);
  v.Reopen();
  ProjectionRunner r(*f.log, *v.store, {&p});
  CHECK(r.position() == 5);
  REQUIRE(r.CatchUp().ok());
  CHECK(v.store->Get("counts", "case-x-1").value() == "4");
  CHECK(v.store->Get("counts", "case-x-2").value() == "2");
}

TEST_CASE("the live runner follows the log and serves read-your-writes waits", "[projection]") {
  LogFixture f;
  Views v;
  CountingProjection p;
  ProjectionRunner r(*f.log, *v.store, {&p});
  REQUIRE(r.Start().ok());
  AppendTo(f, "case-x-1", 10);
  REQUIRE(r.WaitFor(f.log->LastPosition(), milliseconds(10'000)));
  CHECK(v.store->Get("counts", "case-x-1").value() == "10");
  CHECK_FALSE(r.WaitFor(f.log->LastPosition() + 1, milliseconds(1)));
  r.Stop();
  CHECK(r.Statuses().at(0).checkpoint == 10);
}

TEST_CASE("a failing projection stops the runner at the event before", "[projection]") {
  LogFixture f;
  Views v;
  CountingProjection p;
  AppendTo(f, "case-x-1", 2);
  AppendTo(f, "case-x-1", 1, "case.poisoned");
  ProjectionRunner r(*f.log, *v.store, {&p});
  auto s = r.CatchUp();
  CHECK(s.IsCorruption());
  CHECK_THAT(s.message(), Catch::Contains("position 3"));
  CHECK_THAT(s.message(), Catch::Contains("procedo rebuild counts"));
  // The failing batch committed nothing: the view is at its last good checkpoint.
  CHECK(v.store->Checkpoint("counts") == 0);
  CHECK_FALSE(v.store->Get("counts", "case-x-1").value().has_value());
}

TEST_CASE("a dropped projection rebuilds to the same rows", "[projection]") {
  LogFixture f;
  Views v;
  CountingProjection p;
  for (int i = 0; i < 50; ++i) AppendTo(f, "case-x-" + std::to_string(i % 7), 1);
  {
    ProjectionRunner r(*f.log, *v.store, {&p});
    REQUIRE(r.Start().ok());
    REQUIRE(r.WaitFor(50, milliseconds(10'000)));
  }
  auto live = v.store->Scan("counts", "", "", 1000).value();
  REQUIRE(v.store->Drop("counts").ok());
  CHECK(v.store->Checkpoint("counts") == 0);
  CHECK(v.store->Scan("counts", "", "", 1000).value().empty());
  ProjectionRunner r(*f.log, *v.store, {&p});
  REQUIRE(r.CatchUp().ok());
  auto rebuilt = v.store->Scan("counts", "", "", 1000).value();
  REQUIRE(rebuilt.size() == live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    CHECK(rebuilt[i].key == live[i].key);
    CHECK(rebuilt[i].value == live[i].value);
  }
  CHECK(v.store->Drop("nope").IsNotFound());
}

TEST_CASE("scans paginate with a cursor, forwards and backwards", "[projection]") {
  Views v;
  auto b = v.store->NewBatch();
  for (int i = 0; i < 10; ++i) b->For("counts").Put("k-" + std::to_string(i), std::to_string(i));
  b->For("counts").Put("other", "x");
  REQUIRE(v.store->Commit(*b).ok());
  auto p1 = v.store->Scan("counts", "k-", "", 4).value();
  REQUIRE(p1.size() == 4);
  CHECK(p1.front().key == "k-0");
  auto p2 = v.store->Scan("counts", "k-", p1.back().key, 4).value();
  CHECK(p2.front().key == "k-4");
  auto p3 = v.store->Scan("counts", "k-", "k-7", 4).value();
  CHECK(p3.size() == 2);
  auto back = v.store->Scan("counts", "k-", "", 3, true).value();
  REQUIRE(back.size() == 3);
  CHECK(back.front().key == "k-9");
  auto back2 = v.store->Scan("counts", "k-", back.back().key, 100, true).value();
  CHECK(back2.front().key == "k-6");
  CHECK(back2.back().key == "k-0");
  CHECK(v.store->Scan("nope", "", "", 1).status().IsNotFound());
}
