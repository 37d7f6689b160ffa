#include "adapters/kafka/changelog_producer.h"

#include <fmt/format.h>

#include "engine/log/codec.h"

namespace procedo::kafka {
namespace {

// The log's largest event (1 MiB of envelope) with room for the record's own overhead.
constexpr size_t kMaxRecordBytes = (1 << 20) + (64 << 10);

using ErrorPtr = std::unique_ptr<rd_kafka_error_t, decltype(&rd_kafka_error_destroy)>;

ErrorPtr Owned(rd_kafka_error_t* e) {
  return ErrorPtr(e, &rd_kafka_error_destroy);
}

bool Fenced(const rd_kafka_error_t* e) {
  return rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__FENCED ||
         rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

Status NotOwner(const std::string& id, const rd_kafka_error_t* e) {
  return Status::Unavailable(
      fmt::format("another process took over the log copied under transactional id '{}' ({}); "
                  "this process appends nothing more: restart it to follow the new owner",
                  id, rd_kafka_error_string(e)),
      Status::SubCode::kNotOwner);
}

}  // namespace

Result<std::unique_ptr<ChangelogProducer>> ChangelogProducer::Open(
    const ChangelogOptions& options) {
  if (!ValidTopicName(options.topic) || options.transactional_id.empty() || options.partition < 0 ||
      options.partition >= options.partitions) {
    return Status::InvalidArgument(
        fmt::format("a changelog needs a valid topic name (got '{}'), a transactional id and a "
                    "partition in [0, {}) (got {})",
                    options.topic, options.partitions, options.partition));
  }
  std::unique_ptr<ChangelogProducer> p(new ChangelogProducer(options));
  const std::string timeout = std::to_string(options.timeout.count());
  Properties props = {
      {"bootstrap.servers", options.bootstrap},
      {"client.id", "procedo-changelog"},
      // A group of up to 32 MiB of events of up to 1 MiB each, in one transaction.
      {"message.max.bytes", std::to_string(kMaxRecordBytes)},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"transactional.id", options.transactional_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // A group waits for its commit: nothing to gain from lingering, and a bounded wait.
      {"linger.ms", "0"},
      {"transaction.timeout.ms", timeout},
      {"message.timeout.ms", timeout},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [k, v] : options.extra) props[k] = v;
  auto conf = MakeConf(props);
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk.ok()) return rk.status();
  p->rk_ = std::move(rk).value();
  TopicSpec spec{options.topic,
                 options.partitions,
                 options.replication,
                 {{"min.insync.replicas", std::to_string(options.min_insync)},
                  {"max.message.bytes", std::to_string(kMaxRecordBytes)},
                  {"unclean.leader.election.enable", "false"},
                  {"retention.ms", "-1"}}};
  if (Status s = CreateTopic(p->rk_.get(), spec, options.timeout); !s.ok()) return s;
  p->topic_.reset(rd_kafka_topic_new(p->rk_.get(), options.topic.c_str(), nullptr));
  if (!p->topic_) {
    return Status::InvalidArgument(
        fmt::format("topic '{}': {}", options.topic, rd_kafka_err2str(rd_kafka_last_error())));
  }
  // Takes the id over: an earlier producer with it is fenced from here on, and a transaction it
  // left open is aborted.
  if (auto e = Owned(rd_kafka_init_transactions(p->rk_.get(), options.timeout.count())); e) {
    return Status::Unavailable(
        fmt::format("taking over the changelog's transactional id '{}' at {} failed: {}; check "
                    "that the brokers are up and retry",
                    options.transactional_id, options.bootstrap, rd_kafka_error_string(e.get())));
  }
  return p;
}

ChangelogProducer::~ChangelogProducer() {
  if (!rk_) return;
  topic_.reset();
  rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

Status ChangelogProducer::Aborted(const std::string& what) {
  if (auto e = Owned(rd_kafka_abort_transaction(rk_.get(), o_.timeout.count())); e) {
    if (Fenced(e.get())) return NotOwner(o_.transactional_id, e.get());
    // Neither committed nor known to be aborted.
    return Status::IoError(fmt::format(
        "{}, and aborting the changelog's transaction failed too ({}): whether the copy holds "
        "the group is unknown; restart the process to catch up from the changelog",
        what, rd_kafka_error_string(e.get())));
  }
  return Status::Unavailable(
      fmt::format("{}; nothing was appended: retry when the brokers are back", what));
}

Status ChangelogProducer::Replicate(const std::vector<std::shared_ptr<const Event>>& events,
                                    const std::vector<std::string>& stored) {
  if (auto e = Owned(rd_kafka_begin_transaction(rk_.get())); e) {
    if (Fenced(e.get()) || rd_kafka_error_is_fatal(e.get())) {
      return NotOwner(o_.transactional_id, e.get());
    }
    return Status::IoError(
        fmt::format("starting a changelog transaction failed: {}", rd_kafka_error_string(e.get())));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& ev = *events[i];
    const std::string position = std::to_string(ev.position);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_PARTITION(o_.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(ev.stream.data(), ev.stream.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(stored[i].data()), stored[i].size()),
        RD_KAFKA_V_HEADER("procedo-position", position.data(),
                          static_cast<ssize_t>(position.size())),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      Status aborted = Aborted("an event was too large for the changelog");
      if (!aborted.IsUnavailable() || aborted.Is(Status::SubCode::kNotOwner)) return aborted;
      return Status::TooLarge(fmt::format(
          "the event at position {} ({} bytes) is larger than a changelog record may be ({} "
          "bytes); nothing of its group was appended",
          ev.position, stored[i].size(), kMaxRecordBytes));
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Aborted(fmt::format("the changelog did not take the event at position {}: {}",
                                 ev.position, rd_kafka_err2str(err)));
    }
  }
  auto e = Owned(rd_kafka_commit_transaction(rk_.get(), o_.timeout.count()));
  if (!e) return Status::Ok();
  if (Fenced(e.get())) return NotOwner(o_.transactional_id, e.get());
  if (rd_kafka_error_txn_requires_abort(e.get())) {
    return Aborted(fmt::format("the changelog refused the group at positions {}-{} ({})",
                               events.front()->position, events.back()->position,
                               rd_kafka_error_string(e.get())));
  }
  // A commit that timed out or failed retriably may still land: the outcome is unknown.
  return Status::IoError(fmt::format(
      "committing the group at positions {}-{} to the changelog failed ({}): whether the copy "
      "holds it is unknown; restart the process to catch up from the changelog",
      events.front()->position, events.back()->position, rd_kafka_error_string(e.get())));
}

Result<KafkaPtr> OpenChangelogReader(const ChangelogOptions& options, const std::string& client_id,
                                     const std::string& group_id) {
  auto conf = MakeConf({{"bootstrap.servers", options.bootstrap},
                        {"client.id", client_id},
                        {"group.id", group_id},
                        {"enable.auto.commit", "false"},
                        {"enable.partition.eof", "true"},
                        {"isolation.level", "read_committed"},
                        {"fetch.max.bytes", std::to_string(64 << 20)}});
  if (!conf.ok()) return conf.status();
  auto rk = MakeClient(RD_KAFKA_CONSUMER, std::move(conf).value());
  if (!rk.ok()) return rk.status();
  rd_kafka_poll_set_consumer(rk->get());
  return rk;
}

Result<ChangelogProducer::Head> ChangelogProducer::LastCopied() const {
  auto rk = OpenChangelogReader(o_, "procedo-changelog-head", o_.transactional_id + ".head");
  if (!rk.ok()) return rk.status();
  int64_t low = 0, high = 0;
  if (auto err = rd_kafka_query_watermark_offsets(rk->get(), o_.topic.c_str(), o_.partition, &low,
                                                  &high, static_cast<int>(o_.timeout.count()));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("reading where the changelog {} ends failed: {}",
                                           o_.topic, rd_kafka_err2str(err)));
  }
  // Backwards in widening windows: the last offsets are transaction markers, not events.
  const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
  for (int64_t window = 64, start = std::max(low, high - window); high > low;
       window *= 4, start = std::max(low, start - window)) {
    PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), o_.topic.c_str(), o_.partition)->offset = start;
    if (auto err = rd_kafka_assign(rk->get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(
          fmt::format("reading the changelog failed: {}", rd_kafka_err2str(err)));
    }
    std::optional<Head> last;
    for (;;) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(fmt::format(
            "reading the end of the changelog {} took longer than {} ms; check the brokers",
            o_.topic, o_.timeout.count()));
      }
      MessagePtr m(rd_kafka_consumer_poll(rk->get(), 100));
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable(fmt::format("reading the changelog {} failed: {}", o_.topic,
                                               rd_kafka_message_errstr(m.get())));
      }
      auto e = codec::DecodeEvent(std::string_view(static_cast<const char*>(m->payload), m->len));
      if (!e.ok()) {
        return Status::Corruption(
            fmt::format("the changelog {} holds at offset {} a record "
                        "that is not an event of the log: {}",
                        o_.topic, m->offset, e.status().message()));
      }
      last = Head{e->position, e->hash};
    }
    if (last) return *last;
    if (start == low) break;
  }
  return Head{};
}

Status ChangelogProducer::CheckHead(const LogStore& log) const {
  auto copied = LastCopied();
  if (!copied.ok()) return copied.status();
  Head local;
  local.position = log.LastPosition();
  if (local.position > 0) {
    auto last = log.ReadAll(local.position, 1);
    if (!last.ok()) return last.status();
    if (last->empty()) return Status::Corruption("the log's last event cannot be read");
    local.hash = last->front().hash;
  }
  if (local.position == copied->position && local.hash == copied->hash) return Status::Ok();
  if (local.position < copied->position) {
    return Status::Unavailable(fmt::format(
        "the log ends at position {} and its copy in {} at {}: another process appended "
        "since; this one must catch up from the changelog before it appends",
        local.position, o_.topic, copied->position));
  }
  return Status::Corruption(fmt::format(
      "the log (up to position {}) and its copy in {} (up to {}) differ: {}; a log is copied "
      "from its first event, and one copy holds only one log's events",
      local.position, o_.topic, copied->position,
      local.position == copied->position ? "the same position holds another event"
                                         : "the log holds events the copy never had"));
}

}  // namespace procedo::kafka
