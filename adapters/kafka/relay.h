// The Kafka relay: tails the event log from its checkpoint and publishes every event to
// `<prefix>.<kind>` (CloudEvents binary mode, key = stream). At least once: the checkpoint moves
// only over events whose delivery the broker confirmed, in log order, so a restart republishes at
// most the unconfirmed tail, each duplicate with the same ce_id. The relay runs on its own thread
// and only reads the log: a broker that is down or slow never holds up an append.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/kafka/cloudevent.h"
#include "adapters/kafka/rdkafka_util.h"
#include "engine/base/clock.h"
#include "engine/log/log_store.h"

namespace procedo {
struct Config;
}

namespace procedo::kafka {

struct RelayOptions {
  std::string bootstrap = "127.0.0.1:19092";
  CloudEventOptions events;
  int partitions = 3;
  int replication = 1;
  std::string checkpoint_dir;           // e.g. <data_dir>/kafka-relay
  size_t queue_max_messages = 100'000;  // librdkafka's buffer; when full the relay waits
  size_t max_message_bytes = 2 << 20;   // producer and topic limit; above the log's event limit
  Properties producer;                  // extra librdkafka properties, applied last
  std::chrono::milliseconds checkpoint_interval{1000};
  std::chrono::milliseconds stop_flush{2000};  // how long Stop() waits for outstanding deliveries
  const Clock* clock = &SystemClock::Instance();
};

// The relay's lag, for /metrics and /readyz. Safe to read from any thread.
struct RelayLag {
  uint64_t head = 0;       // the log's last position
  uint64_t confirmed = 0;  // every position up to here is confirmed by the broker
  uint64_t positions = 0;  // head - confirmed
  double seconds = 0;      // age of the oldest unconfirmed event; 0 when caught up
  uint64_t delivered = 0;  // delivery confirmations this process received (duplicates included)
  uint64_t restarts = 0;   // producer restarts after a failed delivery
  std::string last_error;  // the newest broker or delivery error; empty once deliveries resume
};

class KafkaRelay {
 public:
  // Checks the checkpoint against the log (a replaced log is an error, not a silent re-publish
  // or skip) and starts the thread. Connection problems are not errors here: the relay retries.
  static Result<std::unique_ptr<KafkaRelay>> Start(LogStore* log, RelayOptions options);
  ~KafkaRelay();  // Stop()
  KafkaRelay(const KafkaRelay&) = delete;
  KafkaRelay& operator=(const KafkaRelay&) = delete;

  // Waits up to options.stop_flush for deliveries in flight, saves the checkpoint, and joins.
  void Stop();
  RelayLag Lag() const;

 private:
  KafkaRelay(LogStore* log, RelayOptions options, uint64_t confirmed);
  class Worker;
  LogStore* log_;
  RelayOptions options_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

// The relay's options from procedo.toml / PROCEDO_KAFKA_* settings.
RelayOptions RelayOptionsFromConfig(const Config& c);

}  // namespace procedo::kafka
