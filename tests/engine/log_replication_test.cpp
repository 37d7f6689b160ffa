// The log's seam for a copy outside the process (replication.h): what the copy is given is what
// the log then holds, byte for byte, and a copy that refuses decides whether the log goes on. The
// copy in Kafka itself is tested against a real broker (tests/integration/changelog_test.py).
#include <catch2/catch.hpp>
#include <utility>

#include "engine/log/codec.h"
#include "engine/log/replication.h"
#include "engine/log/verify.h"
#include "engine/log_fixture.h"

namespace procedo {
namespace {

using testing::Ev;
using testing::Req;

class CopyInMemory final : public Replicator {
 public:
  Status Replicate(const std::vector<std::shared_ptr<const Event>>& events,
                   const std::vector<std::string>& stored) override {
    // On the log's writer thread: mismatches are counted here and checked by the test.
    if (!next.ok()) return std::exchange(next, Status::Ok());
    if (events.size() != stored.size()) ++mismatches;
    for (size_t i = 0; i < events.size() && i < stored.size(); ++i) {
      if (codec::EncodeEvent(*events[i]) != stored[i]) ++mismatches;
      copy.push_back(stored[i]);
    }
    ++groups;
    return Status::Ok();
  }
  std::vector<std::string> copy;
  int groups = 0;
  int mismatches = 0;
  Status next;  // the answer to the next group instead of copying it
};

}  // namespace

TEST_CASE("the copy holds what the log holds, and a refused group is written nowhere",
          "[log][replication]") {
  CopyInMemory copy;
  testing::LogFixture f;
  f.options.replicator = &copy;
  f.Reopen();
  REQUIRE(f.log->Append(Req("case-a", ExpectedVersion::NoStream(), {Ev("case.noted")})).ok());
  REQUIRE(f.log
              ->Append(Req("case-b", ExpectedVersion::Any(), {Ev("case.noted"), Ev("case.updated")},
                           "key-1"))
              .ok());
  // A repeat by idempotency key adds nothing to either.
  auto again = f.log->Append(
      Req("case-b", ExpectedVersion::Any(), {Ev("case.noted"), Ev("case.updated")}, "key-1"));
  REQUIRE(again.ok());
  CHECK(again->deduplicated);
  CHECK(copy.copy.size() == 3);

  // The copy refuses for now: the append fails, nothing is written, and the log goes on.
  copy.next = Status::Unavailable("the brokers are down (test)");
  auto refused = f.log->Append(Req("case-a", ExpectedVersion::Exact(1), {Ev("case.noted")}));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().IsUnavailable());
  CHECK(f.log->LastPosition() == 3);
  auto next = f.log->Append(Req("case-a", ExpectedVersion::Exact(1), {Ev("case.noted")}));
  REQUIRE(next.ok());
  CHECK(next->first_position == 4);
  // An event the copy cannot take is refused the same way.
  copy.next = Status::TooLarge("larger than a changelog record may be (test)");
  CHECK(f.log->Append(Req("case-d", ExpectedVersion::Any(), {Ev("case.noted")}))
            .status()
            .IsTooLarge());
  REQUIRE(f.log->Append(Req("case-d", ExpectedVersion::Any(), {Ev("case.noted")})).ok());

  CHECK(copy.mismatches == 0);
  auto all = f.log->ReadAll(1, 100);
  REQUIRE(all.ok());
  REQUIRE(all->size() == copy.copy.size());
  for (size_t i = 0; i < all->size(); ++i) CHECK(codec::EncodeEvent((*all)[i]) == copy.copy[i]);
}

TEST_CASE("a log owned elsewhere, or whose copy is in doubt, appends nothing more",
          "[log][replication]") {
  const Status stop = GENERATE(
      Status::Unavailable("fenced (test)", Status::SubCode::kNotOwner),
      Status::IoError("the commit timed out (test): whether the copy holds it is unknown"));
  CopyInMemory copy;
  testing::LogFixture f;
  f.options.replicator = &copy;
  f.Reopen();
  REQUIRE(f.log->Append(Req("case-a", ExpectedVersion::NoStream(), {Ev("case.noted")})).ok());
  copy.next = stop;
  auto refused = f.log->Append(Req("case-a", ExpectedVersion::Any(), {Ev("case.noted")}));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == stop.code());
  CHECK(refused.status().subcode() == stop.subcode());
  // The copy would take the next one, but the log no longer asks it.
  auto later = f.log->Append(Req("case-b", ExpectedVersion::Any(), {Ev("case.noted")}));
  REQUIRE_FALSE(later.ok());
  CHECK(later.status().code() == stop.code());
  CHECK(copy.groups == 1);
  CHECK(f.log->LastPosition() == 1);
}

namespace {

std::vector<std::string> Slice(const std::vector<std::string>& all, size_t from, size_t to) {
  return {all.begin() + static_cast<std::ptrdiff_t>(from),
          all.begin() + static_cast<std::ptrdiff_t>(to)};
}

}  // namespace

TEST_CASE("a standby applies the owner's copy and holds the same bytes, then can own the log",
          "[log][replication]") {
  CopyInMemory copy;
  testing::LogFixture owner;
  owner.options.replicator = &copy;
  owner.Reopen();
  REQUIRE(owner.log
              ->Append(Req("case-a", ExpectedVersion::NoStream(), {Ev("case.noted", R"({"n":1})")}))
              .ok());
  REQUIRE(owner.log
              ->Append(Req("case-b", ExpectedVersion::Any(), {Ev("case.noted"), Ev("case.updated")},
                           "key-1"))
              .ok());
  owner.clock.Advance(std::chrono::minutes(5));
  REQUIRE(
      owner.log->Append(Req("case-a", ExpectedVersion::Exact(1), {Ev("case.noted", R"({"n":2})")}))
          .ok());
  REQUIRE(copy.copy.size() == 4);
  for (size_t i = 0; i < copy.copy.size(); ++i)
    CHECK(codec::StoredPosition(copy.copy[i]).value() == i + 1);
  CHECK(codec::StoredPosition("").status().code() == Status::Code::kCorruption);

  testing::LogFixture standby;
  auto live = standby.log->Subscribe(1);
  auto first = standby.log->ApplyCopied(Slice(copy.copy, 0, 3));
  REQUIRE(first.ok());
  CHECK(first->first_position == 1);
  CHECK(first->last_position == 3);
  auto second = standby.log->ApplyCopied(Slice(copy.copy, 3, 4));
  REQUIRE(second.ok());
  CHECK(second->first_position == 4);
  CHECK(second->stream_version == 2);

  // Byte for byte the owner's log, its stream index too, and subscribers see it as it lands.
  auto mine = standby.log->ReadAll(1, 100);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 4);
  for (size_t i = 0; i < mine->size(); ++i) CHECK(codec::EncodeEvent((*mine)[i]) == copy.copy[i]);
  CHECK(standby.log->StreamVersion("case-a").value() == 2);
  CHECK(standby.log->StreamVersion("case-b").value() == 2);
  auto stream = standby.log->ReadStream("case-a", 1, Direction::kForward, 10);
  REQUIRE(stream.ok());
  REQUIRE(stream->size() == 2);
  CHECK((*stream)[1].position == 4);
  auto seen = live->Next(10, std::chrono::seconds(5));
  REQUIRE(seen.ok());
  CHECK(seen->size() == 4);

  // What does not continue this log is refused whole, and nothing of it is written: a gap, an
  // event applied twice, an altered byte, and a batch whose first event fits but not its second.
  std::string altered = copy.copy[3];
  altered[altered.size() / 2] ^= 1;
  testing::LogFixture fresh;
  for (const auto& bad :
       {Slice(copy.copy, 1, 3), std::vector<std::string>{copy.copy[0], copy.copy[2]},
        std::vector<std::string>{copy.copy[0], copy.copy[1], copy.copy[2], altered}}) {
    auto refused = fresh.log->ApplyCopied(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Status::Code::kCorruption);
    CHECK(fresh.log->LastPosition() == 0);
  }
  CHECK(standby.log->ApplyCopied(Slice(copy.copy, 3, 4)).status().code() ==
        Status::Code::kCorruption);
  CHECK(standby.log->LastPosition() == 4);
  // The owner of a history follows no other.
  CHECK(owner.log->ApplyCopied(Slice(copy.copy, 0, 1)).status().IsInvalidArgument());

  // Reopened, the standby takes the log over: its appends continue the chain, and its own copy
  // gets them.
  live.reset();  // a subscription keeps its log open
  standby.Reopen();
  CopyInMemory taken;
  standby.log->SetReplicator(&taken);
  auto appended = standby.log->Append(Req("case-a", ExpectedVersion::Exact(2), {Ev("case.noted")}));
  REQUIRE(appended.ok());
  CHECK(appended->first_position == 5);
  REQUIRE(taken.copy.size() == 1);
  auto fifth = codec::DecodeEvent(taken.copy[0]);
  REQUIRE(fifth.ok());
  CHECK(fifth->prev_hash == codec::ComputeHash(copy.copy[3]));
  CHECK(standby.log->ApplyCopied(Slice(copy.copy, 0, 1)).status().IsInvalidArgument());
  standby.log.reset();
  auto verified = VerifyLog(standby.options.path);
  REQUIRE(verified.ok());
  CHECK(verified->ok);
  CHECK(verified->events_checked == 5);
}

}  // namespace procedo
