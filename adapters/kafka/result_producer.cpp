#include "adapters/kafka/result_producer.h"

#include <fmt/format.h>

namespace procedo::kafka {
namespace {

constexpr std::chrono::milliseconds kAdminTimeout{5000};
constexpr size_t kHeaderRoom = 64 << 10;

}  // namespace

Result<std::unique_ptr<ResultProducer>> ResultProducer::Connect(ResultProducerOptions options) {
  std::unique_ptr<ResultProducer> p(new ResultProducer(std::move(options)));
  Properties props = {
      {"bootstrap.servers", p->o_.bootstrap},
      {"client.id", "procedo-command-results"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"message.timeout.ms", "0"},  // a broker outage delays results, never drops them
      {"message.max.bytes", std::to_string(p->o_.max_message_bytes + kHeaderRoom)},
      {"partitioner", "murmur2_random"},  // Java's: a key's results stay in one partition
      {"linger.ms", "1"},                 // each result is awaited right away
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [k, v] : p->o_.extra) props[k] = v;
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_opaque(conf->get(), p.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &ResultProducer::OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &ResultProducer::OnError);
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk.ok()) return rk.status();
  p->rk_ = std::move(rk).value();
  return p;
}

ResultProducer::~ResultProducer() {
  if (!rk_) return;
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk_.get(), 0);
}

void ResultProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* p = static_cast<ResultProducer*>(opaque);
  if (p->outstanding_ > 0) --p->outstanding_;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (p->o_.delivered) p->o_.delivered->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    return;
  // Results never time out, so this one cannot be delivered as it is (not authorized, fatal
  // idempotence error). Its command stays uncommitted and is answered again after a restart.
  p->Report(
      fmt::format("a command result could not be delivered to {}: {}; reconnecting and "
                  "answering the uncommitted commands again from their idempotency records",
                  p->o_.topic, rd_kafka_err2str(m->err)));
  p->failed_ = true;
}

void ResultProducer::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* p = static_cast<ResultProducer*>(opaque);
  if (err != RD_KAFKA_RESP_ERR__FATAL) {
    p->Report(fmt::format("kafka (results): {}", reason));
    return;
  }
  char buf[512];
  rd_kafka_fatal_error(rk, buf, sizeof buf);
  p->Report(fmt::format("kafka fatal error (results): {}; restarting the producer", buf));
  p->failed_ = true;
}

Status ResultProducer::CreateTopics(const std::vector<std::string>& names, int partitions,
                                    int replication, const std::function<bool()>& cancelled) {
  for (const auto& name : names) {
    TopicSpec spec{name,
                   partitions,
                   replication,
                   {{"max.message.bytes", std::to_string(o_.max_message_bytes + kHeaderRoom)}}};
    if (Status s = CreateTopic(rk_.get(), spec, kAdminTimeout, cancelled); !s.ok()) return s;
  }
  return Status::Ok();
}

bool ResultProducer::Produce(const std::string& key, const std::string& value,
                             const std::string& content_type) {
  for (;;) {
    HeadersPtr headers(rd_kafka_headers_new(1));
    rd_kafka_header_add(headers.get(), "content-type", -1, content_type.data(),
                        static_cast<ssize_t>(content_type.size()));
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(o_.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      headers.release();  // librdkafka owns them now
      ++outstanding_;
      return true;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      Report(fmt::format("cannot produce a result to {}: {}; reconnecting", o_.topic,
                         rd_kafka_err2str(err)));
      failed_ = true;
      return false;
    }
    rd_kafka_poll(rk_.get(), 100);  // back-pressure: serve delivery reports first
    if (failed_) return false;
  }
}

bool ResultProducer::AwaitAll(const std::function<bool()>& give_up) {
  while (outstanding_ > 0 && !failed_ && !give_up()) rd_kafka_poll(rk_.get(), 100);
  return outstanding_ == 0 && !failed_;
}

void ResultProducer::Poll(std::chrono::milliseconds wait) {
  rd_kafka_poll(rk_.get(), static_cast<int>(wait.count()));
}

}  // namespace procedo::kafka
