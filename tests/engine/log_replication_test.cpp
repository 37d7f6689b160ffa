// The log's seam for a copy outside the process (replication.h): what the copy is given is what
// the log then holds, byte for byte, and a copy that refuses decides whether the log goes on. The
// copy in Kafka itself is tested against a real broker (tests/integration/changelog_test.py).
#include <catch2/catch.hpp>
#include <utility>

#include "engine/log/codec.h"
#include "engine/log/replication.h"
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
  REQUIRE(f.log->Append(Req("case-b", ExpectedVersion::Any(), {Ev("case.noted"), Ev("case.updated")}, "key-1")).ok());
  // A repeat by idempotency key adds nothing to either.
  auto again = f.log->Append(Req("case-b", ExpectedVersion::Any(), {Ev("case.noted"), Ev("case.updated")}, "key-1"));
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
  CHECK(f.log->Append(Req("case-d", ExpectedVersion::Any(), {Ev("case.noted")})).status().IsTooLarge());
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

}  // namespace procedo
