// The Kafka command consumer: reads `<prefix>.commands` in a consumer group, answers each message
// as the HTTP API would (AnswerCommandMessage: same validation, authorization and problems), and
// produces the result to `<prefix>.command-results`, keyed by the command's idempotency key.
//
// Offsets are committed only after the broker confirmed every result of a batch. A crash between
// the append and the commit redelivers the command; the command handler then answers it from its
// idempotency record (`deduplicated: true`, the same positions), so nothing is applied twice and
// every command gets at least one result. Commands run one at a time in partition order, so
// integrators who key their messages by stream id get their commands applied in the order sent.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "adapters/api_keys.h"
#include "adapters/kafka/rdkafka_util.h"

namespace procedo {
struct Config;
class CommandService;
}  // namespace procedo

namespace procedo::kafka {

struct CommandConsumerOptions {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic_prefix = "procedo";  // reads <prefix>.commands, writes <prefix>.command-results
  std::string group_id = "procedo-commands";
  // Static group membership (KIP-345): a restarted server, even after a crash, takes its
  // partitions back at once instead of after the session timeout. Empty: dynamic membership.
  std::string instance_id = "procedo";
  int partitions = 3;  // for the two topics, when they are created
  int replication = 1;
  size_t max_message_bytes = 2 << 20;  // of a result; also the topics' max.message.bytes
  size_t max_batch = 64;               // commands answered between two offset commits
  Properties consumer;                 // extra librdkafka properties, applied last
  Properties producer;
  std::chrono::milliseconds stop_flush{5000};  // how long Stop() waits for results in flight
};

// Counts since start, for /metrics and /readyz. Safe to read from any thread.
struct CommandConsumerStats {
  uint64_t received = 0;  // messages read (redeliveries included)
  uint64_t accepted = 0;
  uint64_t deduplicated = 0;
  uint64_t refused = 0;
  uint64_t malformed = 0;
  uint64_t unauthenticated = 0;
  uint64_t results_delivered = 0;  // confirmed by the broker
  uint64_t commits = 0;            // offset commits that succeeded
  uint64_t restarts = 0;           // client restarts after a failed delivery or a fatal error
  int64_t lag = 0;                 // messages of the assigned partitions not answered yet
  std::string last_error;          // the newest error; empty once the broker answers again
};

class CommandConsumer {
 public:
  // `handler` and `keys` must outlive the consumer. Only bad options are errors here; a broker
  // that is down is retried in the background.
  static Result<std::unique_ptr<CommandConsumer>> Start(const CommandService* handler,
                                                        std::shared_ptr<const ApiKeyRing> keys,
                                                        CommandConsumerOptions options);
  ~CommandConsumer();  // Stop()
  CommandConsumer(const CommandConsumer&) = delete;
  CommandConsumer& operator=(const CommandConsumer&) = delete;

  // Finishes the command at hand, waits up to options.stop_flush for the results in flight,
  // commits what was delivered, and leaves.
  void Stop();
  CommandConsumerStats Stats() const;

  std::string commands_topic() const { return options_.topic_prefix + ".commands"; }
  std::string results_topic() const { return options_.topic_prefix + ".command-results"; }
  const std::string& group_id() const { return options_.group_id; }

 private:
  explicit CommandConsumer(CommandConsumerOptions options);
  class Worker;
  CommandConsumerOptions options_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

// kafka.bootstrap, kafka.topic_prefix, kafka.partitions, kafka.replication and the
// kafka.commands_* keys (the group defaults to <topic_prefix>-commands).
CommandConsumerOptions CommandConsumerOptionsFromConfig(const Config& c);

}  // namespace procedo::kafka
