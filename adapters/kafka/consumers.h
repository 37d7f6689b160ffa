// The Kafka relay and the Kafka command consumer as two of the server's consumers
// (engine/views/consumer.h): the supervisor starts and stops them with the others, and
// /readyz and /metrics report them like the others. A broker that is down makes neither
// essential to readiness: commands are still accepted and the relay catches up.
#pragma once

#include <memory>
#include <mutex>

#include "adapters/kafka/command_consumer.h"
#include "adapters/kafka/relay.h"
#include "engine/views/consumer.h"

namespace procedo::kafka {

class RelayConsumer final : public Consumer {
 public:
  RelayConsumer(LogStore* log, RelayOptions options) : log_(log), options_(std::move(options)) {}
  std::string name() const override { return "kafka_relay"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

 private:
  LogStore* log_;
  RelayOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<KafkaRelay> relay_;
};

class CommandsConsumer final : public Consumer {
 public:
  CommandsConsumer(const CommandService* handler, std::shared_ptr<const ApiKeyRing> keys,
                   CommandConsumerOptions options)
      : handler_(handler), keys_(std::move(keys)), options_(std::move(options)) {}
  std::string name() const override { return "kafka_commands"; }
  Status Start() override;
  void Stop() override;
  // Position: command messages answered; lag: messages of the assigned partitions not yet.
  ConsumerProgress Progress() const override;
  const CommandConsumerOptions& options() const { return options_; }

 private:
  const CommandService* handler_;
  std::shared_ptr<const ApiKeyRing> keys_;
  CommandConsumerOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<CommandConsumer> consumer_;
};

}  // namespace procedo::kafka
