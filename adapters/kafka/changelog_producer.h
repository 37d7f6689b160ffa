// The log's copy in Kafka (a Replicator): each group of appends is one transaction on one
// partition of a changelog topic, committed before the log writes the group itself. The
// producer's transactional id names the log, not the process: whoever opens a producer with it
// fences every earlier one (init_transactions), so that a former owner, paused or cut off, can
// never add to the copy again; its log refuses every append from then on (SubCode::kNotOwner).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adapters/kafka/rdkafka_util.h"
#include "engine/log/log_store.h"
#include "engine/log/replication.h"

namespace procedo::kafka {

struct ChangelogOptions {
  std::string bootstrap = "127.0.0.1:19092";
  std::string topic;             // created when missing, with `partitions` and `replication`
  int32_t partition = 0;         // this log's partition of the topic
  std::string transactional_id;  // one per log: the fencing is by this id
  int partitions = 1;
  int replication = 1;
  int min_insync = 1;
  // How long a group's transaction may take before the append is refused (and its outcome is
  // unknown: the log then stops taking appends).
  std::chrono::milliseconds timeout{10000};
  Properties extra;  // further librdkafka settings
};

// A consumer that reads the changelog as its copies must: committed transactions only, the end
// of the partition told (enable.partition.eof), offsets assigned by the caller, none committed.
Result<KafkaPtr> OpenChangelogReader(const ChangelogOptions& options, const std::string& client_id,
                                     const std::string& group_id);

class ChangelogProducer final : public Replicator {
 public:
  // Creates the topic when missing and takes the transactional id over, fencing any earlier
  // producer that holds it. Unavailable when the brokers do not answer in time.
  static Result<std::unique_ptr<ChangelogProducer>> Open(const ChangelogOptions& options);
  ~ChangelogProducer() override;

  Status Replicate(const std::vector<std::shared_ptr<const Event>>& events,
                   const std::vector<std::string>& stored) override;

  // The last event the changelog's partition holds, committed (position 0: none).
  struct Head {
    uint64_t position = 0;
    Hash hash{};
  };
  Result<Head> LastCopied() const;
  // Ok when `log` ends exactly where its copy does, as it must before its first append here:
  // Unavailable when it is behind the copy (another process appended since: this one must catch
  // up from the changelog first), Corruption when the two differ at the same position or the log
  // holds events the copy never had.
  Status CheckHead(const LogStore& log) const;

 private:
  explicit ChangelogProducer(ChangelogOptions options) : o_(std::move(options)) {}
  // The transaction aborted after a failure that does not leave its outcome unknown.
  Status Aborted(const std::string& what);

  ChangelogOptions o_;
  KafkaPtr rk_;
  TopicPtr topic_;
};

}  // namespace procedo::kafka
