#include "adapters/kafka/command_consumer.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "adapters/config.h"
#include "adapters/kafka/command_message.h"
#include "adapters/kafka/result_producer.h"

namespace procedo::kafka {
namespace {

constexpr std::chrono::milliseconds kPollWait{200};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

}  // namespace

// Everything the consumer thread owns. Stats() and Stop() reach in through atomics and the error
// mutex only.
class CommandConsumer::Worker {
 public:
  Worker(const CommandService* handler, std::shared_ptr<const ApiKeyRing> keys,
         const CommandConsumerOptions& o)
      : handler_(handler), keys_(std::move(keys)), o_(o) {}

  void Run();
  void RequestStop() { stop_.store(true); }

  std::atomic<uint64_t> received_{0}, delivered_{0}, commits_{0}, restarts_{0};
  std::array<std::atomic<uint64_t>, 5> outcomes_{};  // by MessageOutcome
  std::atomic<int64_t> lag_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;

 private:
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  Status Connect();
  void TearDown();
  std::vector<MessagePtr> Poll();
  // Answers the batch in order and queues the results; returns how many messages were answered
  // (all of them, unless stopping or the producer failed).
  size_t Answer(const std::vector<MessagePtr>& batch);
  bool AwaitResults();
  void Commit(const std::vector<MessagePtr>& batch, size_t answered);
  void UpdateLag();
  void Backoff();
  void SetError(std::string text) {
    std::lock_guard lock(error_mu_);
    last_error_ = std::move(text);
  }

  const CommandService* handler_;
  std::shared_ptr<const ApiKeyRing> keys_;
  const CommandConsumerOptions& o_;
  const std::string commands_ = o_.topic_prefix + ".commands";
  const std::string results_ = o_.topic_prefix + ".command-results";
  KafkaPtr consumer_;
  std::unique_ptr<ResultProducer> producer_;
  bool fatal_ = false;  // the consumer client hit a fatal error: replace it
  std::chrono::milliseconds backoff_{100};
  std::atomic<bool> stop_{false};
};

void CommandConsumer::Worker::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* w = static_cast<Worker*>(opaque);
  if (err != RD_KAFKA_RESP_ERR__FATAL) {
    w->SetError(fmt::format("kafka (commands): {}", reason));
    return;
  }
  char buf[512];
  rd_kafka_fatal_error(rk, buf, sizeof buf);
  // E.g. FENCED_INSTANCE_ID: another server joined the group with the same instance id.
  w->SetError(
      fmt::format("kafka fatal error (commands): {}; restarting the consumer; check that "
                  "no other server uses group {} with instance id '{}'",
                  buf, w->o_.group_id, w->o_.instance_id));
  w->fatal_ = true;
}

Status CommandConsumer::Worker::Connect() {
  ResultProducerOptions po{o_.bootstrap,
                           results_,
                           o_.max_message_bytes,
                           o_.producer,
                           [this](std::string e) { SetError(std::move(e)); },
                           &delivered_};
  auto producer = ResultProducer::Connect(std::move(po));
  if (!producer.ok()) return producer.status();
  producer_ = std::move(producer).value();
  if (Status s = producer_->CreateTopics({commands_, results_}, o_.partitions, o_.replication,
                                         [this] { return stop_.load(); });
      !s.ok()) {
    return s;
  }
  Properties cp = {
      {"bootstrap.servers", o_.bootstrap},
      {"client.id", "procedo-commands"},
      {"group.id", o_.group_id},
      // Offsets are committed by hand, after the results are delivered.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // A new group answers the commands sent before it first started, too.
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  if (!o_.instance_id.empty()) cp["group.instance.id"] = o_.instance_id;
  for (const auto& [k, v] : o_.consumer) cp[k] = v;
  auto conf = MakeConf(cp);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_error_cb(conf->get(), &Worker::OnError);
  auto consumer = MakeClient(RD_KAFKA_CONSUMER, std::move(conf).value());
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(consumer).value();
  rd_kafka_poll_set_consumer(consumer_.get());  // errors and rebalances through consumer_poll
  PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), commands_.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get())) {
    return Status::Unavailable(
        fmt::format("cannot subscribe to {}: {}", commands_, rd_kafka_err2str(err)));
  }
  fatal_ = false;
  return Status::Ok();
}

void CommandConsumer::Worker::TearDown() {
  if (consumer_) {
    // Leaves the group (a static member only stops fetching) without committing anything more.
    rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
  }
  producer_.reset();  // drops unconfirmed results: their commands were not committed
}

void CommandConsumer::Worker::Backoff() {
  // Sleeping is fine on the consumer's own thread; Stop() cuts it short.
  auto until = std::chrono::steady_clock::now() + backoff_;
  while (!stop_.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

std::vector<MessagePtr> CommandConsumer::Worker::Poll() {
  std::vector<MessagePtr> batch;
  while (batch.size() < o_.max_batch && !stop_.load() && !fatal_) {
    const int wait = batch.empty() ? static_cast<int>(kPollWait.count()) : 0;
    MessagePtr m(rd_kafka_consumer_poll(consumer_.get(), wait));
    producer_->Poll(std::chrono::milliseconds(0));
    if (!m) break;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (m->err) {
      // Broker down, topic not there for a moment: librdkafka retries by itself.
      SetError(fmt::format("reading {}: {}", commands_, rd_kafka_message_errstr(m.get())));
      break;
    }
    batch.push_back(std::move(m));
  }
  return batch;
}

size_t CommandConsumer::Worker::Answer(const std::vector<MessagePtr>& batch) {
  size_t answered = 0;
  for (const auto& m : batch) {
    // Stopping between commands is safe: the rest stays uncommitted and is read again later.
    if (stop_.load() || fatal_ || producer_->failed()) break;
    received_.fetch_add(1);
    MessageOrigin origin{rd_kafka_topic_name(m->rkt), m->partition, m->offset, ""};
    if (m->key) origin.key.assign(static_cast<const char*>(m->key), m->key_len);
    std::string_view value(m->payload ? static_cast<const char*>(m->payload) : "", m->len);
    CommandResult r = AnswerCommandMessage(value, origin, *keys_, handler_, o_.max_message_bytes);
    outcomes_[static_cast<size_t>(r.outcome)].fetch_add(1);
    const char* type = r.problem() ? "application/problem+json" : "application/json";
    if (!producer_->Produce(r.key, r.value, type)) break;
    ++answered;
  }
  return answered;
}

bool CommandConsumer::Worker::AwaitResults() {
  // Once stopping, wait at most stop_flush; what is not confirmed by then stays uncommitted and
  // is answered again (from the idempotency records) after the restart.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  return producer_->AwaitAll([&] {
    if (!stop_.load()) return false;
    if (!deadline) deadline = std::chrono::steady_clock::now() + o_.stop_flush;
    return std::chrono::steady_clock::now() > *deadline;
  });
}

void CommandConsumer::Worker::Commit(const std::vector<MessagePtr>& batch, size_t answered) {
  // The batch is in poll order, so the answered messages are a prefix of each partition's run.
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (size_t i = 0; i < answered; ++i) {
    const auto& m = batch[i];
    auto& n = next[{rd_kafka_topic_name(m->rkt), m->partition}];
    n = std::max(n, m->offset + 1);
  }
  if (next.empty()) return;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
  for (const auto& [tp, offset] : next) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), /*async=*/0)) {
    // The results are out; after a rebalance or restart these commands are answered again from
    // their idempotency records.
    SetError(fmt::format("committing offsets of {}: {}", commands_, rd_kafka_err2str(err)));
    return;
  }
  commits_.fetch_add(1);
  backoff_ = std::chrono::milliseconds(100);
  std::lock_guard lock(error_mu_);
  last_error_.clear();  // the broker answers again
}

void CommandConsumer::Worker::UpdateLag() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  PartitionListPtr list(raw);
  rd_kafka_position(consumer_.get(), list.get());
  int64_t lag = 0;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    // No position yet: nothing was read from the partition since it was assigned, so either
    // nothing is waiting there or the first fetch is under way.
    if (tp.offset < 0) continue;
    int64_t low = 0, high = 0;
    // Cached from fetch responses: cheap, no broker round trip.
    if (rd_kafka_get_watermark_offsets(consumer_.get(), tp.topic, tp.partition, &low, &high))
      continue;
    if (high > tp.offset) lag += high - tp.offset;
  }
  lag_.store(lag);
}

void CommandConsumer::Worker::Run() {
  while (!stop_.load()) {
    if (!consumer_) {
      if (Status s = Connect(); !s.ok()) {
        if (s.code() != Status::Code::kShutdown) SetError(s.ToString());
        TearDown();
        Backoff();
        continue;
      }
    }
    std::vector<MessagePtr> batch = Poll();
    const size_t answered = batch.empty() ? 0 : Answer(batch);
    if (answered > 0 && AwaitResults()) Commit(batch, answered);
    if (fatal_ || producer_->failed()) {
      TearDown();
      restarts_.fetch_add(1);
      Backoff();
      continue;
    }
    UpdateLag();
  }
  TearDown();
}

CommandConsumer::CommandConsumer(CommandConsumerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<CommandConsumer>> CommandConsumer::Start(
    const CommandService* handler, std::shared_ptr<const ApiKeyRing> keys,
    CommandConsumerOptions options) {
  if (!keys) return Status::InvalidArgument("the Kafka command consumer needs the API keys");
  if (!ValidTopicName(options.topic_prefix + ".command-results")) {
    return Status::InvalidArgument(fmt::format(
        "kafka.topic_prefix '{}' makes invalid topic names; use letters, digits, '.', '_', '-'",
        options.topic_prefix));
  }
  if (options.group_id.empty()) {
    return Status::InvalidArgument(
        "the command consumer's group id is empty; set kafka.commands_group_id or leave it "
        "unset for <topic_prefix>-commands");
  }
  options.max_batch = std::max<size_t>(options.max_batch, 1);
  std::unique_ptr<CommandConsumer> c(new CommandConsumer(std::move(options)));
  c->worker_ = std::make_unique<Worker>(handler, std::move(keys), c->options_);
  c->thread_ = std::thread([w = c->worker_.get()] { w->Run(); });
  return c;
}

CommandConsumer::~CommandConsumer() {
  Stop();
}

void CommandConsumer::Stop() {
  if (!thread_.joinable()) return;
  worker_->RequestStop();
  thread_.join();
}

CommandConsumerStats CommandConsumer::Stats() const {
  const Worker& w = *worker_;
  auto count = [&w](MessageOutcome o) { return w.outcomes_[static_cast<size_t>(o)].load(); };
  CommandConsumerStats s;
  s.received = w.received_.load();
  s.accepted = count(MessageOutcome::kAccepted);
  s.deduplicated = count(MessageOutcome::kDeduplicated);
  s.refused = count(MessageOutcome::kRefused);
  s.malformed = count(MessageOutcome::kMalformed);
  s.unauthenticated = count(MessageOutcome::kUnauthenticated);
  s.results_delivered = w.delivered_.load();
  s.commits = w.commits_.load();
  s.restarts = w.restarts_.load();
  s.lag = w.lag_.load();
  std::lock_guard lock(w.error_mu_);
  s.last_error = w.last_error_;
  return s;
}

CommandConsumerOptions CommandConsumerOptionsFromConfig(const Config& c) {
  CommandConsumerOptions o;
  o.bootstrap = c.kafka_bootstrap;
  o.topic_prefix = c.kafka_topic_prefix;
  // Per prefix by default, so that instances sharing a cluster with their own topics never share
  // a group (nor fence each other's static members).
  o.group_id = c.kafka_commands_group_id.empty() ? c.kafka_topic_prefix + "-commands"
                                                 : c.kafka_commands_group_id;
  o.instance_id = c.kafka_commands_instance_id;
  o.partitions = static_cast<int>(c.kafka_partitions);
  o.replication = static_cast<int>(c.kafka_replication);
  // A result carries the command's events, each within the log's limit; a bigger one is sent
  // without its events (events_omitted).
  o.max_message_bytes = static_cast<size_t>(c.log_max_event_bytes) * 2;
  return o;
}

}  // namespace procedo::kafka
