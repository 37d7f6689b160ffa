// Durability as the disk sees it. A SIGKILL (crash_test.cpp) leaves the kernel's page cache
// behind, so it cannot tell a synced log from an unsynced one; a power loss can. Threads append
// through the fault file system (fault_fs.h) until the power goes off at a random moment; what
// the disk keeps is then reopened with the real file system. With sync on, every acknowledged
// append is there with its exact data, round after round, each round recovering the previous
// one's power loss through the fault file system again (and some losing power in the middle of
// that recovery). With sync off, the same test loses acknowledged appends: it can fail.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "engine/fault_fs.h"
#include "engine/log/verify.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {

constexpr int kThreads = 8;  // enough callers waiting on each WAL sync to form groups

struct Acked {
  std::string stream;
  std::string data;
};
using AckedEvents = std::map<uint64_t, Acked>;  // position -> what its append was answered with

struct RoundOutcome {
  bool in_open = false;  // the power went off while the log was being opened, or soon after
  PowerLossReport loss;
  size_t appends = 0;  // acknowledged in this round
  size_t lost = 0;     // acknowledged events it knew of, missing after the power loss
};

uint32_t Seed() {
  if (const char* s = std::getenv("PROCEDO_SEED")) return static_cast<uint32_t>(std::stoul(s));
  return std::random_device{}();
}

// One round: where and when the power goes off.
struct Plan {
  bool sync = true;
  int round = 0;
  size_t acks = 1;       // appends acknowledged before the power loss is armed
  uint64_t at_op = 1;    // then the power goes off instead of the at_op-th file operation
  bool in_open = false;  // armed before the log opens instead: it may cut recovery short
};

// Opens the log at `dir` through a new fault file system, appends from kThreads threads and cuts
// the power as `plan` says: `image` gets what the disk keeps. Every acknowledged event goes into
// `acked`.
void RunUntilPowerLoss(const std::string& dir, const std::string& image, const Plan& plan,
                       AckedEvents* acked, RoundOutcome* out) {
  auto fault = std::make_shared<FaultFs>(dir);
  LogOptions o;
  o.path = dir;
  o.sync = plan.sync;
  o.env = FaultFs::NewEnv(fault);
  out->in_open = plan.in_open;
  if (plan.in_open) fault->SimulatePowerLossAt(plan.at_op, image);
  auto log = LogStore::Open(o);
  if (!log.ok() && fault->power_loss()) {  // the power went off in the middle of recovery
    REQUIRE(fault->power_loss()->ok());
    out->loss = fault->power_loss()->value();
    return;
  }
  INFO(log.status().ToString());
  REQUIRE(log.ok());

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Status> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        AppendRequest r;
        r.stream = "case-power-" + std::to_string((t + i) % 5);
        r.expected = ExpectedVersion::Any();
        if (i % 4 == 0) r.idempotency_key = fmt::format("r{}-t{}-i{}", plan.round, t, i);
        for (int k = 0; k <= i % 3; ++k) {
          r.events.push_back(Ev("case.noted", fmt::format(R"({{"r":{},"t":{},"i":{},"k":{}}})",
                                                          plan.round, t, i, k)));
        }
        auto res = (*log)->Append(std::move(r));
        std::lock_guard lock(mu);
        if (!res.ok()) {
          errors.push_back(res.status());
          cv.notify_all();
          return;  // the power is off: nothing more can be acknowledged
        }
        for (const auto& e : res->events) (*acked)[e->position] = Acked{e->stream, e->data};
        ++out->appends;
        cv.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mu);
    bool reached = cv.wait_for(lock, std::chrono::seconds(30),
                               [&] { return out->appends >= plan.acks || !errors.empty(); });
    CHECK(reached);
  }
  // Each group commit is one WAL write and, with sync on, one WAL sync: a random count of file
  // operations lands the loss before either, as a real power loss would.
  if (!plan.in_open) fault->SimulatePowerLossAt(plan.at_op, image);
  for (auto& th : threads) th.join();  // each stops at its first failed append
  log->reset();                        // closes against a dead disk: none of it reaches the image

  for (const Status& e : errors) {
    INFO(e.ToString());
    CHECK(e.code() == Status::Code::kIoError);
  }
  REQUIRE(errors.size() == static_cast<size_t>(kThreads));
  auto loss = fault->power_loss();
  REQUIRE(loss.has_value());
  INFO(loss->status().ToString());
  REQUIRE(loss->ok());
  out->loss = loss->value();
}

// Reopens a copy of `image` with the real file system; counts the acknowledged events missing,
// and fails on anything else: a different event at an acknowledged position, a gap, a broken
// chain or index.
size_t CountLost(const std::string& image, const std::string& scratch, const AckedEvents& acked) {
  std::filesystem::copy(image, scratch, std::filesystem::copy_options::recursive);
  auto report = VerifyLog(scratch);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  INFO(report->problem);
  REQUIRE(report->ok);

  LogOptions o;
  o.path = scratch;
  auto log = LogStore::Open(o);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  const uint64_t last = (*log)->LastPosition();
  auto all = (*log)->ReadAll(1, last + 1);
  REQUIRE(all.ok());
  REQUIRE(all->size() == last);
  REQUIRE(report->events_checked == last);
  for (size_t i = 0; i < all->size(); ++i) REQUIRE((*all)[i].position == i + 1);
  size_t lost = 0;
  for (const auto& [position, a] : acked) {
    if (position > last) {
      ++lost;
      continue;
    }
    INFO("position " << position);
    const Event& e = (*all)[position - 1];
    CHECK(e.stream == a.stream);
    CHECK(e.data == a.data);
  }
  log->reset();
  std::filesystem::remove_all(scratch);
  return lost;
}

// Runs `rounds` power losses, each round reopening the previous round's image. With `sync`,
// acknowledged events accumulate over the rounds, since none may ever go missing; without, each
// round only knows its own, as the earlier ones may be gone and their positions reused.
std::vector<RoundOutcome> Run(bool sync, int rounds, uint32_t seed) {
  TempDir tmp;
  std::mt19937 rng(seed);
  std::string dir = tmp.sub("round-0");
  AckedEvents acked;
  std::vector<RoundOutcome> outcomes;
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    if (!sync) acked.clear();
    const std::string image = tmp.sub("round-" + std::to_string(round + 1));
    // Now and then the power goes off while the log recovers from the previous loss: replaying
    // its WAL into new table files, writing a new MANIFEST, deleting what they replace (a few
    // dozen file operations). Not without sync: that test needs appends to lose in every round.
    Plan plan{.sync = sync, .round = round, .acks = 1 + rng() % 150};
    plan.in_open = sync && round % 3 == 2;
    plan.at_op = 1 + rng() % (plan.in_open ? 100 : 4);
    RoundOutcome out;
    RunUntilPowerLoss(dir, image, plan, &acked, &out);
    std::filesystem::remove_all(dir);
    out.lost = CountLost(image, tmp.sub("check"), acked);
    outcomes.push_back(out);
    dir = image;
  }
  return outcomes;
}

}  // namespace

TEST_CASE("a power loss keeps every append acknowledged with sync on", "[durability]") {
  const uint32_t seed = Seed();
  INFO("seed " << seed << " (rerun with PROCEDO_SEED=" << seed << ")");
  auto outcomes = Run(true, 8, seed);
  size_t appends = 0, syncs = 0, unsynced = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const RoundOutcome& o = outcomes[i];
    INFO("round " << i);
    CHECK(o.lost == 0);
    if (!o.in_open) CHECK(o.appends >= 1);
    appends += o.appends;
    syncs += o.loss.syncs;
    if (o.loss.unsynced_bytes > 0) ++unsynced;
  }
  WARN("sync on: " << outcomes.size() << " power losses (" << unsynced << " with unsynced "
                   << "writes), " << appends << " appends acknowledged, " << syncs
                   << " file syncs, none lost; seed " << seed);
}

TEST_CASE("a power loss loses appends acknowledged with sync off", "[durability]") {
  const uint32_t seed = Seed();
  INFO("seed " << seed << " (rerun with PROCEDO_SEED=" << seed << ")");
  auto outcomes = Run(false, 4, seed);
  int losing_rounds = 0;
  size_t lost = 0;
  for (const auto& o : outcomes) {
    // Each round acknowledges at least one append before the power goes off, and nothing syncs
    // its WAL: those bytes were still unsynced at the loss, so the loss must show.
    CHECK(o.appends >= 1);
    CHECK(o.loss.unsynced_bytes > 0);
    if (o.lost > 0) ++losing_rounds;
    lost += o.lost;
  }
  CHECK(losing_rounds >= 1);
  WARN("sync off: " << losing_rounds << " of " << outcomes.size() << " power losses lost " << lost
                    << " acknowledged events; seed " << seed);
}
