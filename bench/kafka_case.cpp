// kafka: the relay publishing the log (1,000,000 events or PROCEDO_BENCH_SECONDS) to a real broker,
// against `kcat -P` producing the same messages (same keys, values and header sizes, same
// idempotent producer settings) to the same broker in the same run. The broker is
// PROCEDO_KAFKA_BOOTSTRAP, or one started here through scripts/kafka (port 19292) and stopped
// after.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "adapters/kafka/cloudevent.h"
#include "adapters/kafka/rdkafka_util.h"
#include "adapters/kafka/relay.h"
#include "bench/bench_util.h"
#include "bench/cases.h"
#include "engine/log/log_store.h"

namespace procedo::bench {
namespace {

std::string Run(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p.get())) out += buf;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A broker for the duration of the case, unless one is given.
class Broker {
 public:
  Broker(const std::string& source_dir, const std::string& dir) {
    if (const char* b = std::getenv("PROCEDO_KAFKA_BOOTSTRAP")) {
      bootstrap_ = b;
      return;
    }
    script_ = fmt::format("'{}/scripts/kafka'", source_dir);
    args_ = fmt::format("--port 19292 --dir '{}'", dir);
    bootstrap_ = Run(fmt::format("{} start {} --fresh", script_, args_));
    if (bootstrap_.empty()) throw std::runtime_error("scripts/kafka start failed");
  }
  ~Broker() {
    if (!script_.empty()) Run(fmt::format("{} stop {} 2>/dev/null", script_, args_));
  }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::string script_, args_, bootstrap_;
};

uint64_t PublishedCount(const std::string& bootstrap, const std::string& topic, int partitions) {
  auto conf = kafka::MakeConf({{"bootstrap.servers", bootstrap}});
  auto rk = kafka::MakeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk.ok()) throw std::runtime_error(rk.status().ToString());
  uint64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    for (int attempt = 0;; ++attempt) {  // "not leader" for a moment after topic creation
      auto err = rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), p, &lo, &hi, 5000);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (attempt == 20) throw std::runtime_error(rd_kafka_err2str(err));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    total += static_cast<uint64_t>(hi);
  }
  return total;
}

}  // namespace

int KafkaCase(const Limits& limits, const std::string& source_dir) {
  ScratchDir dir("kafka");
  Broker broker(source_dir, dir.path() + "/broker");
  const uint64_t total = std::min<uint64_t>(limits.max_events, 1'000'000);
  const std::string run = fmt::format("bench{}", std::random_device{}() % 1'000'000);
  constexpr int kPartitions = 3;

  LogOptions lo;
  lo.path = dir.path() + "/log";
  lo.sync = false;  // loading the fixture is not what is measured
  auto log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  for (uint64_t i = 0; i < total; i += 1000) {
    AppendRequest r{fmt::format("case-forli-{}", (i / 1000) % 100), ExpectedVersion::Any(), {}, ""};
    for (uint64_t k = i; k < std::min(total, i + 1000); ++k) {
      r.events.push_back(NewEvent{"case.started", Payload(k), "comune-forli",
                                  R"({"id":"op1","role":"operator"})", fmt::format("req-{}", k), "",
                                  std::nullopt});
    }
    if (!(*log)->Append(std::move(r)).ok()) throw std::runtime_error("fixture append failed");
  }

  kafka::RelayOptions ro;
  ro.bootstrap = broker.bootstrap();
  ro.events.topic_prefix = run;
  ro.partitions = kPartitions;
  ro.checkpoint_dir = dir.path() + "/relay";

  double baseline = 0;
  if (!limits.skip_baseline) {
    // The same messages for kcat: key TAB value per line, and headers of the same sizes (those of
    // a representative event; kcat sends one fixed set with every message).
    const std::string file = dir.path() + "/messages.txt";
    {
      std::ofstream out(file);
      for (uint64_t from = 1; from <= total; from += 10'000) {
        auto page = (*log)->ReadAll(from, 10'000);
        if (!page.ok()) throw std::runtime_error(page.status().ToString());
        for (const auto& e : *page) out << e.stream << '\t' << e.data << '\n';
      }
    }
    std::string headers;
    auto mid = (*log)->ReadAll(total / 2 + 1, 1);
    for (const auto& [k, v] : kafka::CloudEventHeaders(ro.events, mid->front())) {
      headers += fmt::format(" -H '{}={}'", k, v);
    }
    const std::string topic = run + "-kcat";
    if (Status s = kafka::CreateTopic(broker.bootstrap(), {topic, kPartitions, 1, {}},
                                      std::chrono::seconds(10));
        !s.ok()) {
      throw std::runtime_error(s.ToString());
    }
    const std::string cmd = fmt::format(
        "kcat -P -q -b {} -t {} -K '\t' -X enable.idempotence=true -X acks=all "
        "-X partitioner=murmur2_random -X queue.buffering.max.messages=100000{} -l '{}'",
        broker.bootstrap(), topic, headers, file);
    auto t0 = std::chrono::steady_clock::now();
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("kcat failed: " + cmd);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const uint64_t n = PublishedCount(broker.bootstrap(), topic, kPartitions);
    if (n != total) throw std::runtime_error(fmt::format("kcat published {} of {}", n, total));
    baseline = n / secs;
  }

  // The relay, from an empty checkpoint; the clock starts before it connects, as kcat's does.
  auto t0 = std::chrono::steady_clock::now();
  auto relay = kafka::KafkaRelay::Start(log->get(), ro);
  if (!relay.ok()) throw std::runtime_error(relay.status().ToString());
  const auto deadline = t0 + limits.max_time;
  uint64_t confirmed = 0;
  while ((confirmed = (*relay)->Lag().confirmed) < total &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  (*relay)->Stop();
  const uint64_t n = PublishedCount(broker.bootstrap(), run + ".case", kPartitions);
  if (n < confirmed)
    throw std::runtime_error(
        fmt::format("relay confirmed {} but the topic holds {}", confirmed, n));
  fmt::print(stderr, "kafka: relay confirmed {} of {} events in {:.2f} s\n", confirmed, total,
             secs);
  PrintResult("kafka", confirmed / secs, baseline);
  return 0;
}

}  // namespace procedo::bench
