// Small helpers over librdkafka's C API shared by the relay, the command consumer and the bench.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/base/status.h"

namespace procedo::kafka {

using Properties = std::map<std::string, std::string>;

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, RdKafkaDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, RdKafkaDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, RdKafkaDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, RdKafkaDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, RdKafkaDeleter>;

// A configuration with `props` set; an unknown property or a bad value is an InvalidArgument
// naming it.
Result<ConfPtr> MakeConf(const Properties& props);

// Takes ownership of `conf` (librdkafka does on success; on failure it is destroyed here).
Result<KafkaPtr> MakeClient(rd_kafka_type_t type, ConfPtr conf);

struct TopicSpec {
  std::string name;
  int partitions = 3;
  int replication = 1;
  Properties config;  // topic configs, e.g. max.message.bytes
};

// One CreateTopics request through `rk`; a topic that already exists is fine. Unavailable when the
// broker does not answer within `timeout` (retrying later may succeed), Shutdown as soon as
// `cancelled` (checked every 100 ms) says so.
Status CreateTopic(rd_kafka_t* rk, const TopicSpec& spec, std::chrono::milliseconds timeout,
                   const std::function<bool()>& cancelled = {});

// The same through a short-lived producer handle, for tools and tests.
Status CreateTopic(const std::string& bootstrap, const TopicSpec& spec,
                   std::chrono::milliseconds timeout);

// Valid Kafka topic characters: [A-Za-z0-9._-], 1..249 bytes.
bool ValidTopicName(const std::string& name);

}  // namespace procedo::kafka
