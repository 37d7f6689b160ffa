#include "adapters/kafka/rdkafka_util.h"

#include <fmt/format.h>

namespace procedo::kafka {

Result<ConfPtr> MakeConf(const Properties& props) {
  ConfPtr conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument(fmt::format("librdkafka property {}={}: {}", k, v, err));
    }
  }
  return conf;
}

Result<KafkaPtr> MakeClient(rd_kafka_type_t type, ConfPtr conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (!rk) return Status::InvalidArgument(fmt::format("cannot create a Kafka client: {}", err));
  conf.release();  // now owned by rk
  return KafkaPtr(rk);
}

namespace {

// The brokers a client was given, for messages: an operator needs to know which ones failed.
std::string BootstrapOf(rd_kafka_t* rk) {
  char buf[512];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", buf, &size) != RD_KAFKA_CONF_OK) {
    return "the configured brokers";
  }
  return buf;
}

}  // namespace

Status CreateTopic(rd_kafka_t* rk, const TopicSpec& spec, std::chrono::milliseconds timeout,
                   const std::function<bool()>& cancelled) {
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication, err, sizeof err);
  if (!nt) return Status::InvalidArgument(fmt::format("topic {}: {}", spec.name, err));
  for (const auto& [k, v] : spec.config) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  const int ms = static_cast<int>(timeout.count());
  rd_kafka_AdminOptions_set_request_timeout(ao, ms, err, sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(ao, ms, err, sizeof err);
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, &nt, 1, ao, q.get());
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_NewTopic_destroy(nt);
  // librdkafka answers every admin request, with __TIMED_OUT at worst; the margin covers that.
  rd_kafka_event_t* ev = nullptr;
  for (int waited = 0; !ev && waited < ms + 2000; waited += 100) {
    if (cancelled && cancelled()) return Status::Shutdown("stopped while creating " + spec.name);
    ev = rd_kafka_queue_poll(q.get(), 100);
  }
  if (!ev) {
    return Status::Unavailable(
        fmt::format("no answer to CreateTopics({}) from {}", spec.name, BootstrapOf(rk)));
  }
  Status result;
  if (rd_kafka_event_error(ev)) {
    result = Status::Unavailable(
        fmt::format("creating topic {} on {}: {}", spec.name, BootstrapOf(rk),
                    rd_kafka_event_error_string(ev)));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(r[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
      const char* msg = rd_kafka_topic_result_error_string(r[i]);
      std::string text =
          fmt::format("creating topic {} on {}: {}", spec.name, BootstrapOf(rk),
                      msg ? msg : rd_kafka_err2str(e));
      // Bad partition counts or replication factors will not fix themselves; timeouts may.
      result = (e == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
                e == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ||
                e == RD_KAFKA_RESP_ERR_INVALID_CONFIG || e == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION ||
                e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
                   ? Status::InvalidArgument(text +
                                             "; check kafka.partitions, kafka.replication "
                                             "and kafka.topic_prefix")
                   : Status::Unavailable(text);
    }
  }
  rd_kafka_event_destroy(ev);
  return result;
}

Status CreateTopic(const std::string& bootstrap, const TopicSpec& spec,
                   std::chrono::milliseconds timeout) {
  auto conf = MakeConf({{"bootstrap.servers", bootstrap}});
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk.ok()) return rk.status();
  return CreateTopic(rk->get(), spec, timeout);
}

bool ValidTopicName(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace procedo::kafka
