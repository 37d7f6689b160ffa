// The producing half of the command consumer: results go to `<prefix>.command-results` through
// an idempotent producer (acks=all, never timing out), and AwaitAll waits until the broker has
// confirmed every one of them. Only then may the consumer commit the commands' offsets.
// Used from one thread; delivery reports run inside Poll and AwaitAll on that thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/kafka/rdkafka_util.h"

namespace procedo::kafka {

struct ResultProducerOptions {
  std::string bootstrap;
  std::string topic;                   // <prefix>.command-results
  size_t max_message_bytes = 2 << 20;  // a result's value; the client allows some room for headers
  Properties extra;                    // librdkafka properties, applied last
  std::function<void(std::string)> on_error;   // broker and delivery errors, as they happen
  std::atomic<uint64_t>* delivered = nullptr;  // counts confirmed results when set
};

class ResultProducer {
 public:
  static Result<std::unique_ptr<ResultProducer>> Connect(ResultProducerOptions options);
  ~ResultProducer();  // drops whatever is not confirmed yet: those commands are not committed

  // Creates the topics if missing (the broker may not auto-create them). Unavailable while the
  // broker does not answer; Shutdown once `cancelled` says so.
  Status CreateTopics(const std::vector<std::string>& names, int partitions, int replication,
                      const std::function<bool()>& cancelled);
  // Queues one result, waiting while librdkafka's queue is full. false: the producer failed
  // and must be replaced.
  bool Produce(const std::string& key, const std::string& value, const std::string& content_type);
  // Serves delivery reports until every queued result is confirmed (true), one cannot be
  // delivered (false), or `give_up` says so (false).
  bool AwaitAll(const std::function<bool()>& give_up);
  void Poll(std::chrono::milliseconds wait);
  // A result could not be delivered, or the client hit a fatal error: replace the producer.
  bool failed() const { return failed_; }

 private:
  explicit ResultProducer(ResultProducerOptions o) : o_(std::move(o)) {}
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void Report(std::string text) {
    if (o_.on_error) o_.on_error(std::move(text));
  }

  ResultProducerOptions o_;
  KafkaPtr rk_;
  size_t outstanding_ = 0;  // queued, not yet confirmed or failed
  bool failed_ = false;
};

}  // namespace procedo::kafka
