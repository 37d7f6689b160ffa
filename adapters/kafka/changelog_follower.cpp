#include "adapters/kafka/changelog_follower.h"

#include <fmt/format.h>

#include "engine/log/codec.h"

namespace procedo::kafka {
namespace {

// Events applied per write: a catch-up of a long changelog is not one batch of it all.
constexpr size_t kApplyBatch = 1000;

}  // namespace

Result<std::unique_ptr<ChangelogFollower>> ChangelogFollower::Open(const ChangelogOptions& options,
                                                                   LogStore& log) {
  if (!ValidTopicName(options.topic) || options.partition < 0) {
    return Status::InvalidArgument(fmt::format(
        "following a changelog needs a valid topic name (got '{}') and a partition of it",
        options.topic));
  }
  auto rk = OpenChangelogReader(options, "procedo-changelog-follower", options.topic + ".follower");
  if (!rk.ok()) return rk.status();
  std::unique_ptr<ChangelogFollower> f(new ChangelogFollower(options, log));
  f->rk_ = std::move(rk).value();
  return f;
}

ChangelogFollower::~ChangelogFollower() {
  if (rk_) rd_kafka_consumer_close(rk_.get());
}

Status ChangelogFollower::Apply(std::vector<std::string>& pending) {
  if (pending.empty()) return Status::Ok();
  auto applied = log_.ApplyCopied(std::move(pending));
  pending.clear();
  // Read again from the first record next time: the log's position skips what it holds.
  if (!applied.ok()) from_ = RD_KAFKA_OFFSET_BEGINNING;
  return applied.status();
}

Result<uint64_t> ChangelogFollower::CatchUp() {
  const auto deadline = std::chrono::steady_clock::now() + o_.timeout;
  int64_t low = 0, high = 0;
  if (auto err = rd_kafka_query_watermark_offsets(rk_.get(), o_.topic.c_str(), o_.partition, &low,
                                                  &high, static_cast<int>(o_.timeout.count()));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(fmt::format("reading where the changelog {} ends failed: {}",
                                           o_.topic, rd_kafka_err2str(err)));
  }
  if (high <= std::max(low, from_)) return log_.LastPosition();  // nothing written since
  // Assigned again at each call, from the record after the last one read (at first, the
  // partition's first: the log's positions say which are here already, and the offsets, with
  // transaction markers among them, cannot): the consumer then tells the end of the partition
  // again even when nothing arrived since the last call.
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), o_.topic.c_str(), o_.partition)->offset = from_;
  if (auto err = rd_kafka_assign(rk_.get(), list.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(
        fmt::format("following the changelog {} failed: {}", o_.topic, rd_kafka_err2str(err)));
  }
  std::vector<std::string> pending;
  uint64_t next = log_.LastPosition() + 1;
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      if (Status s = Apply(pending); !s.ok()) return s;
      return Status::Unavailable(fmt::format(
          "catching up with the changelog {} took longer than {} ms (the log is at position "
          "{}); check the brokers, then try again",
          o_.topic, o_.timeout.count(), log_.LastPosition()));
    }
    MessagePtr m(rd_kafka_consumer_poll(rk_.get(), 100));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(fmt::format("reading the changelog {} failed: {}", o_.topic,
                                             rd_kafka_message_errstr(m.get())));
    }
    from_ = m->offset + 1;
    std::string_view value(static_cast<const char*>(m->payload), m->len);
    // Only the position here: ApplyCopied checks the whole event once.
    auto position = codec::StoredPosition(value);
    if (!position.ok()) {
      return Status::Corruption(fmt::format(
          "the changelog {} holds at offset {} a record that is not an event of the log: {}",
          o_.topic, m->offset, position.status().message()));
    }
    if (*position < next) continue;  // already in the log
    pending.emplace_back(value);
    ++next;
    if (pending.size() >= kApplyBatch) {
      if (Status s = Apply(pending); !s.ok()) return s;
    }
  }
  if (Status s = Apply(pending); !s.ok()) return s;
  return log_.LastPosition();
}

}  // namespace procedo::kafka
