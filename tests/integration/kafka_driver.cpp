// kafka_driver: the engine side of tests/integration/kafka_test.py. It opens the log under
// PROCEDO_DATA_DIR (configured like `procedo serve`, through PROCEDO_* variables), optionally runs
// the Kafka relay in the same process (--relay) or copies each append to the changelog topic
// <prefix>.changelog, partition 0, before it is acknowledged (--changelog: the transactional id
// <prefix>.changelog.p0, so that a second driver with the same prefix fences the first; a log
// behind the changelog catches up from it before its first append, one that differs is refused),
// or follows the changelog without appending (--standby), and obeys one command per line on
// stdin:
//   append STREAM_PREFIX STREAMS COUNT   COUNT appends of one event, round-robin over STREAMS
//                                        streams; prints "ok LAST_POSITION MAX_APPEND_MS"
//   fill STREAM_PREFIX STREAMS COUNT     the same in appends of up to 500 events (fast fixtures)
//   try STREAM COUNT                     one append of COUNT events that may be refused; prints
//                                        "ok LAST_POSITION" or "refused CODE SUBCODE MESSAGE"
//   head                                 "head LAST_POSITION" of the log
//   catchup                              (--standby) applies the changelog's events past the
//                                        log's head; prints "head LAST_POSITION"
//   lag                                  the relay's lag as one JSON line
//   quit                                 stops the relay (saving its checkpoint) and exits 0
// Any failed append prints "error ..." and exits 1: the tests assert that appends never fail.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/config.h"
#include "adapters/kafka/changelog_follower.h"
#include "adapters/kafka/changelog_producer.h"
#include "adapters/kafka/relay.h"
#include "engine/log/log_store.h"

namespace {

procedo::NewEvent MakeEvent(uint64_t n) {
  procedo::NewEvent e;
  e.type = n % 3 == 0 ? "case.noted" : "case.updated";
  e.data = fmt::format(R"({{"n":{},"note":"evento {}"}})", n, n);
  e.tenant = "comune-forli";
  e.actor = R"({"id":"op1","role":"operator"})";
  if (n % 2 == 0) e.correlation_id = fmt::format("req-{}", n);
  if (n % 4 == 0) e.causation_id = fmt::format("cmd-{}", n);
  return e;
}

int Fail(const procedo::Status& s) {
  std::cout << "error " << s.ToString() << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace procedo;
  bool with_relay = false, with_changelog = false, standby = false;
  for (int i = 1; i < argc; ++i) {
    with_relay |= std::string(argv[i]) == "--relay";
    with_changelog |= std::string(argv[i]) == "--changelog";
    standby |= std::string(argv[i]) == "--standby";
  }
  auto cfg = LoadConfig("", [](const char* n) { return std::getenv(n); });
  if (!cfg.ok()) return Fail(cfg.status());
  std::filesystem::create_directories(cfg->data_dir);
  LogOptions lo;
  lo.path = cfg->LogPath();
  lo.sync = cfg->log_sync;
  kafka::ChangelogOptions co;
  co.bootstrap = cfg->kafka_bootstrap;
  co.topic = cfg->kafka_topic_prefix + ".changelog";
  co.transactional_id = co.topic + ".p0";
  std::unique_ptr<kafka::ChangelogProducer> changelog;
  if (with_changelog) {  // fences the former owner first: nothing it adds after our catch-up
    auto c = kafka::ChangelogProducer::Open(co);
    if (!c.ok()) return Fail(c.status());
    changelog = std::move(c).value();
  }
  auto log = LogStore::Open(lo);
  if (!log.ok()) return Fail(log.status());
  std::unique_ptr<kafka::ChangelogFollower> follower;
  if (with_changelog || standby) {
    auto f = kafka::ChangelogFollower::Open(co, **log);
    if (!f.ok()) return Fail(f.status());
    follower = std::move(f).value();
  }
  if (changelog) {
    if (auto caught = follower->CatchUp(); !caught.ok()) return Fail(caught.status());
    if (Status s = changelog->CheckHead(**log); !s.ok()) return Fail(s);
    (*log)->SetReplicator(changelog.get());
  }
  std::unique_ptr<kafka::KafkaRelay> relay;
  if (with_relay) {
    auto r = kafka::KafkaRelay::Start(log->get(), kafka::RelayOptionsFromConfig(*cfg));
    if (!r.ok()) return Fail(r.status());
    relay = std::move(r).value();
  }
  std::cout << "ready " << (*log)->LastPosition() << std::endl;
  uint64_t n = (*log)->LastPosition();
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd, prefix;
    uint64_t streams = 1, count = 0;
    in >> cmd >> prefix >> streams >> count;
    if (cmd == "append" || cmd == "fill") {
      const uint64_t per_call = cmd == "fill" ? 500 : 1;
      double max_ms = 0;
      uint64_t last = 0;
      for (uint64_t done = 0; done < count;) {
        AppendRequest r;
        r.stream = fmt::format("{}-{}", prefix, (n + 1) % streams);
        for (uint64_t k = 0; k < per_call && done < count; ++k, ++done)
          r.events.push_back(MakeEvent(++n));
        auto t0 = std::chrono::steady_clock::now();
        auto res = (*log)->Append(std::move(r));
        max_ms = std::max(
            max_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
        if (!res.ok()) return Fail(res.status());
        last = res->last_position;
      }
      std::cout << fmt::format("ok {} {:.3f}", last, max_ms) << std::endl;
    } else if (cmd == "try") {
      AppendRequest r;
      r.stream = prefix;
      for (uint64_t k = 0; k < streams; ++k) r.events.push_back(MakeEvent(++n));
      auto res = (*log)->Append(std::move(r));
      if (res.ok()) {
        std::cout << "ok " << res->last_position << std::endl;
      } else {
        std::cout << "refused " << CodeName(res.status().code()) << " "
                  << SubCodeName(res.status().subcode()) << " " << res.status().message()
                  << std::endl;
      }
    } else if (cmd == "catchup") {
      if (!standby) return Fail(Status::InvalidArgument("catchup: started without --standby"));
      auto caught = follower->CatchUp();
      if (!caught.ok()) return Fail(caught.status());
      std::cout << "head " << *caught << std::endl;
    } else if (cmd == "head") {
      std::cout << "head " << (*log)->LastPosition() << std::endl;
    } else if (cmd == "lag") {
      if (!relay) return Fail(Status::InvalidArgument("lag: started without --relay"));
      auto l = relay->Lag();
      nlohmann::json j = {{"head", l.head},
                          {"confirmed", l.confirmed},
                          {"positions", l.positions},
                          {"seconds", l.seconds},
                          {"delivered", l.delivered},
                          {"restarts", l.restarts},
                          {"last_error", l.last_error}};
      std::cout << j.dump() << std::endl;
    } else if (cmd == "quit") {
      break;
    } else {
      std::cout << "error unknown command: " << line << std::endl;
    }
  }
  if (relay) relay->Stop();
  return 0;
}
