#include <catch2/catch.hpp>

#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {
void Fill(LogFixture& f) {
  // case-x-1 gets versions 1..10 at odd positions, case-x-2 the even ones.
  for (int i = 0; i < 10; ++i) {
    for (const char* s : {"case-x-1", "case-x-2"}) {
      REQUIRE(f.log->Append(Req(s, ExpectedVersion::Any(),
                                {Ev("case.noted", "{\"i\":" + std::to_string(i) + "}")})).ok());
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
