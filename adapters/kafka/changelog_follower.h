// A log that follows its copy in Kafka (changelog_producer.h): the changelog's partition read
// committed, and every event past the log's head applied as the owner stored it
// (LogStore::ApplyCopied, which checks each link of the chain). A standby keeps its log this
// way, and a process that takes a log over catches up with it before its first append, so that
// nothing the former owner acknowledged is lost.
#pragma once

#include <memory>

#include "adapters/kafka/changelog_producer.h"

namespace procedo::kafka {

class ChangelogFollower {
 public:
  // Reads `options.topic`, partition `options.partition`; the log must outlive the follower.
  static Result<std::unique_ptr<ChangelogFollower>> Open(const ChangelogOptions& options,
                                                         LogStore& log);
  ~ChangelogFollower();

  // Applies what the changelog holds committed past the log's head, up to its end when the call
  // began; the log's head after. Unavailable when the brokers do not answer within the options'
  // timeout (what was applied stays), Corruption when the changelog does not continue the log.
  Result<uint64_t> CatchUp();

 private:
  ChangelogFollower(ChangelogOptions options, LogStore& log) : o_(std::move(options)), log_(log) {}
  Status Apply(std::vector<std::string>& pending);

  ChangelogOptions o_;
  LogStore& log_;
  KafkaPtr rk_;
  int64_t from_ = RD_KAFKA_OFFSET_BEGINNING;  // the changelog's offset to read on from
};

}  // namespace procedo::kafka
