#include "adapters/kafka/relay.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "adapters/config.h"
#include "adapters/kafka/checkpoint.h"
#include "adapters/kafka/delivery_window.h"

namespace procedo::kafka {
namespace {

constexpr size_t kReadBatch = 1024;
constexpr std::chrono::milliseconds kIdleWait{200};
constexpr std::chrono::milliseconds kAdminTimeout{5000};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

}  // namespace

// Everything the relay thread owns. Only Lag() and Stop() reach in from other threads, through
// the atomics and the error mutex.
class KafkaRelay::Worker {
 public:
  Worker(LogStore* log, const RelayOptions& o, uint64_t confirmed)
      : confirmed_(confirmed), log_(log), o_(o), window_(confirmed), persisted_(confirmed) {}

  void Run();
  void RequestStop() {
    stop_.store(true);
    std::lock_guard lock(sub_mu_);
    if (sub_) sub_->Cancel();
  }

  std::atomic<uint64_t> confirmed_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> restarts_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;

 private:
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque);

  Status Connect();
  void TearDown();
  // false: stopping or the producer must restart.
  bool Produce(const Event& e);
  rd_kafka_topic_t* Topic(const std::string& name);
  void Backoff();
  void Persist(bool force);
  void SetError(std::string text) {
    std::lock_guard lock(error_mu_);
    last_error_ = std::move(text);
  }

  LogStore* log_;
  const RelayOptions& o_;
  DeliveryWindow window_;
  uint64_t persisted_;
  TimePoint last_persist_{};
  KafkaPtr rk_;
  std::unordered_map<std::string, TopicPtr> topics_;
  std::mutex sub_mu_;
  std::unique_ptr<Subscription> sub_;
  bool restart_ = false;
  std::chrono::milliseconds backoff_{100};
  std::atomic<bool> stop_{false};
};

void KafkaRelay::Worker::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* w = static_cast<Worker*>(opaque);
  auto position = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private));
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    w->window_.Confirm(position);
    w->confirmed_.store(w->window_.confirmed(), std::memory_order_release);
    w->delivered_.fetch_add(1, std::memory_order_relaxed);
    w->backoff_ = std::chrono::milliseconds(100);
    if (!w->last_error_.empty()) w->SetError("");  // the broker answers again
    return;
  }
  if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    return;
  // Messages never time out (message.timeout.ms=0), so this is a permanent failure (too large,
  // not authorized, fatal idempotence error). Producing again from the checkpoint keeps every
  // event; it may repeat some, with their same ce_id.
  w->SetError(fmt::format("delivery of position {} failed: {}; republishing from position {}",
                          position, rd_kafka_err2str(m->err), w->window_.confirmed() + 1));
  w->restart_ = true;
}

void KafkaRelay::Worker::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* w = static_cast<Worker*>(opaque);
  w->SetError(fmt::format("kafka: {}", reason));
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    w->SetError(fmt::format("kafka fatal error: {}; restarting the producer", buf));
    w->restart_ = true;
  }
}

Status KafkaRelay::Worker::Connect() {
  Properties p = {
      {"bootstrap.servers", o_.bootstrap},
      {"client.id", "procedo-relay"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Never give up on a message: a broker that is down for an hour delays events, never drops
      // them. Back-pressure comes from the bounded queue instead.
      {"message.timeout.ms", "0"},
      {"queue.buffering.max.messages", std::to_string(o_.queue_max_messages)},
      {"message.max.bytes", std::to_string(o_.max_message_bytes)},
      // Java's default partitioner, so Java integrators can co-partition by stream id.
      {"partitioner", "murmur2_random"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [k, v] : o_.producer) p[k] = v;
  auto conf = MakeConf(p);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Worker::OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &Worker::OnError);
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk.ok()) return rk.status();
  rk_ = std::move(rk).value();
  restart_ = false;
  window_.Reset(confirmed_.load());
  std::lock_guard lock(sub_mu_);
  sub_ = log_->Subscribe(window_.confirmed() + 1);
  if (stop_.load()) sub_->Cancel();
  return Status::Ok();
}

void KafkaRelay::Worker::TearDown() {
  if (!rk_) return;
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_.get(), 0);
  topics_.clear();
  rk_.reset();
  std::lock_guard lock(sub_mu_);
  sub_.reset();
}

void KafkaRelay::Worker::Backoff() {
  // Sleeping is fine here: this is the relay's own thread, and Stop() cuts it short.
  auto until = std::chrono::steady_clock::now() + backoff_;
  while (!stop_.load() && std::chrono::steady_clock::now() < until) {
    if (rk_)
      rd_kafka_poll(rk_.get(), 50);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

rd_kafka_topic_t* KafkaRelay::Worker::Topic(const std::string& name) {
  if (auto it = topics_.find(name); it != topics_.end()) return it->second.get();
  TopicSpec spec{name,
                 o_.partitions,
                 o_.replication,
                 {{"max.message.bytes", std::to_string(o_.max_message_bytes)}}};
  while (!stop_.load()) {
    Status s = CreateTopic(rk_.get(), spec, kAdminTimeout, [this] { return stop_.load(); });
    if (s.ok()) break;
    if (s.code() == Status::Code::kShutdown) return nullptr;
    SetError(s.message());
    Backoff();
  }
  if (stop_.load()) return nullptr;
  TopicPtr t(rd_kafka_topic_new(rk_.get(), name.c_str(), nullptr));
  return topics_.emplace(name, std::move(t)).first->second.get();
}

bool KafkaRelay::Worker::Produce(const Event& e) {
  rd_kafka_topic_t* topic = Topic(TopicFor(o_.events, e.stream));
  if (!topic) return false;
  HeadersPtr headers(rd_kafka_headers_new(13));
  for (const auto& [k, v] : CloudEventHeaders(o_.events, e)) {
    rd_kafka_header_add(headers.get(), k.data(), static_cast<ssize_t>(k.size()), v.data(),
                        static_cast<ssize_t>(v.size()));
  }
  const int64_t ms = e.time.time_since_epoch().count() / 1000;
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(e.stream.data(), e.stream.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(e.data.data()), e.data.size()),
        RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_TIMESTAMP(ms),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(e.position))),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      headers.release();  // librdkafka owns them now
      window_.Sent();
      return true;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      SetError(fmt::format("cannot produce position {} to {}: {}; restarting the producer",
                           e.position, rd_kafka_topic_name(topic), rd_kafka_err2str(err)));
      restart_ = true;
      return false;
    }
    // Back-pressure: the broker is slow or down. Serve delivery reports until there is room.
    rd_kafka_poll(rk_.get(), 100);
    Persist(false);
    if (stop_.load() || restart_) return false;
  }
}

void KafkaRelay::Worker::Persist(bool force) {
  const uint64_t c = window_.confirmed();
  if (c == persisted_) return;
  const TimePoint now = o_.clock->Now();
  if (!force && now - last_persist_ < o_.checkpoint_interval) return;
  RelayCheckpoint cp{c, {}};
  auto ev = log_->ReadAll(c, 1);
  if (ev.ok() && !ev->empty()) cp.hash = ev->front().hash;
  if (Status s = SaveCheckpoint(o_.checkpoint_dir, cp); !s.ok()) {
    SetError(s.ToString());  // the relay goes on; a restart would only republish more
    return;
  }
  persisted_ = c;
  last_persist_ = now;
}

void KafkaRelay::Worker::Run() {
  while (!stop_.load()) {
    if (!rk_) {
      if (Status s = Connect(); !s.ok()) {
        SetError(s.ToString());
        Backoff();
        continue;
      }
    }
    rd_kafka_poll(rk_.get(), 0);
    if (restart_) {
      Persist(true);
      TearDown();
      restarts_.fetch_add(1);
      Backoff();
      continue;
    }
    Persist(false);
    if (window_.in_flight() >= o_.queue_max_messages) {
      rd_kafka_poll(rk_.get(), 50);
      continue;
    }
    const bool waiting = window_.in_flight() > 0;
    auto batch = sub_->Next(kReadBatch, waiting ? std::chrono::milliseconds(0) : kIdleWait);
    if (!batch.ok()) {
      if (batch.status().code() == Status::Code::kShutdown) break;
      SetError(batch.status().ToString());
      TearDown();  // resubscribe from the checkpoint after a pause
      Backoff();
      continue;
    }
    if (batch->empty()) {
      if (waiting)
        rd_kafka_poll(rk_.get(), 5);
      else
        Persist(true);  // idle: nothing is lost by writing now
      continue;
    }
    for (const auto& e : batch.value()) {
      if (!Produce(*e)) break;
    }
  }
  if (rk_) {
    rd_kafka_flush(rk_.get(), static_cast<int>(o_.stop_flush.count()));
    Persist(true);
    TearDown();
  }
}

KafkaRelay::KafkaRelay(LogStore* log, RelayOptions options, uint64_t confirmed)
    : log_(log),
      options_(std::move(options)),
      worker_(std::make_unique<Worker>(log_, options_, confirmed)) {}

Result<std::unique_ptr<KafkaRelay>> KafkaRelay::Start(LogStore* log, RelayOptions options) {
  if (options.checkpoint_dir.empty()) {
    return Status::InvalidArgument("the Kafka relay needs a checkpoint directory");
  }
  if (!ValidTopicName(options.events.topic_prefix + ".commands")) {
    return Status::InvalidArgument(fmt::format(
        "kafka.topic_prefix '{}' makes invalid topic names; use letters, digits, '.', '_', '-'",
        options.events.topic_prefix));
  }
  auto cp = LoadCheckpoint(options.checkpoint_dir);
  if (!cp.ok()) return cp.status();
  if (cp->position > 0) {
    auto ev = log->ReadAll(cp->position, 1);
    if (!ev.ok()) return ev.status();
    if (ev->empty() || ev->front().position != cp->position || ev->front().hash != cp->hash) {
      return Status::Corruption(fmt::format(
          "the Kafka relay's checkpoint (position {}, in {}) does not match this log (last "
          "position {}): the log was replaced. Delete {} to republish every event from position 1",
          cp->position, options.checkpoint_dir, log->LastPosition(), options.checkpoint_dir));
    }
  }
  std::unique_ptr<KafkaRelay> r(new KafkaRelay(log, std::move(options), cp->position));
  r->thread_ = std::thread([w = r->worker_.get()] { w->Run(); });
  return r;
}

KafkaRelay::~KafkaRelay() {
  Stop();
}

void KafkaRelay::Stop() {
  if (!thread_.joinable()) return;
  worker_->RequestStop();
  thread_.join();
}

RelayLag KafkaRelay::Lag() const {
  RelayLag l;
  l.confirmed = worker_->confirmed_.load(std::memory_order_acquire);
  l.head = std::max(log_->LastPosition(), l.confirmed);
  l.positions = l.head - l.confirmed;
  l.delivered = worker_->delivered_.load();
  l.restarts = worker_->restarts_.load();
  if (l.positions > 0) {
    auto ev = log_->ReadAll(l.confirmed + 1, 1);
    if (ev.ok() && !ev->empty()) {
      auto age = options_.clock->Now() - ev->front().time;
      l.seconds = std::max(0.0, std::chrono::duration<double>(age).count());
    }
  }
  std::lock_guard lock(worker_->error_mu_);
  l.last_error = worker_->last_error_;
  return l;
}

RelayOptions RelayOptionsFromConfig(const Config& c) {
  RelayOptions o;
  o.bootstrap = c.kafka_bootstrap;
  o.events.topic_prefix = c.kafka_topic_prefix;
  o.events.source = c.kafka_source;
  o.events.dataschema_base = c.kafka_dataschema_base;
  o.partitions = static_cast<int>(c.kafka_partitions);
  o.replication = static_cast<int>(c.kafka_replication);
  o.checkpoint_dir = c.KafkaRelayPath();
  o.queue_max_messages = static_cast<size_t>(c.kafka_queue_max_messages);
  o.max_message_bytes = static_cast<size_t>(c.log_max_event_bytes) + (64 << 10);
  return o;
}

}  // namespace procedo::kafka
