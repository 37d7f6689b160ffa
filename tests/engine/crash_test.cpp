// A child appends until SIGKILL at a random moment; after each of 20 rounds every acknowledged
// event is readable, positions are gap-free and verify passes.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>

#include "engine/log_fixture.h"
#include "engine/log/verify.h"

using namespace procedo;
using namespace procedo::testing;

namespace {

// Runs the child until it has acknowledged `acks` appends, kills it, and returns the highest
// acknowledged position (including acks still in the pipe when it died).
uint64_t RunAndKill(const std::string& dir, int acks) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(PROCEDO_CRASH_CHILD, PROCEDO_CRASH_CHILD, dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  uint64_t max_acked = 0, pos = 0;
  int seen = 0;
  while (seen < acks && read(fds[0], &pos, sizeof pos) == sizeof pos) {
    max_acked = std::max(max_acked, pos);
    ++seen;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  while (read(fds[0], &pos, sizeof pos) == sizeof pos) max_acked = std::max(max_acked, pos);
  close(fds[0]);
  REQUIRE(seen == acks);  // the child did not die on its own
  REQUIRE(WIFSIGNALED(status));
  return max_acked;
}

}  // namespace

TEST_CASE("acknowledged appends survive SIGKILL, 20 rounds", "[crash]") {
  TempDir dir;
  const std::string path = dir.sub("log");
  std::mt19937 rng(std::random_device{}());
  uint64_t acked_total = 0;
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    uint64_t acked = RunAndKill(path, 1 + static_cast<int>(rng() % 300));
    REQUIRE(acked > acked_total);
    acked_total = acked;

    auto report = VerifyLog(path);
    REQUIRE(report.ok());
    INFO(report->problem);
    REQUIRE(report->ok);
    REQUIRE(report->events_checked >= acked);

    LogOptions o;
    o.path = path;
    auto log = LogStore::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->LastPosition() >= acked);
    auto all = (*log)->ReadAll(1, 1'000'000).value();
    REQUIRE(all.size() == (*log)->LastPosition());
    for (size_t i = 0; i < all.size(); ++i) REQUIRE(all[i].position == i + 1);
    acked_total = (*log)->LastPosition();
  }
}
