// The help desk's knowledge base (seed 004): every archived ticket with its solution becomes a
// document of a Xapian index (kb_index.h), a view folded from the log like the others. It
// follows the log on its own thread because its storage is not the view store: the index keeps
// its checkpoint as metadata committed with its documents, so after a crash both agree, and an
// index that is missing, unreadable or ahead of the log is dropped and rebuilt from position 0.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "projections/views/kb_index.h"

namespace procedo::projections {

// The document of an archived ticket from its stream's events up to its `ticket.archived`:
// subject and category of the opening, the latest solution, the closing instant, the keywords
// given when archiving. Nothing of the requester (see KbDocument). Nullopt when the events do
// not end in an archiving.
std::optional<KbDocument> DocumentOf(const std::vector<Event>& stream);

// What a ticket being taken in charge is compared with: its subject, category and description.
// The description is only a query here, never stored nor indexed.
std::string SimilarityText(const nlohmann::json& opened_data);

class KnowledgeBase final : public Consumer {
 public:
  static constexpr const char* kName = "knowledge_base";
  // Opens (or creates) the index in `dir`; `log` must outlive it. Nothing is folded before
  // Start or CatchUp.
  static Result<std::unique_ptr<KnowledgeBase>> Open(const LogStore& log, std::string dir);
  ~KnowledgeBase() override;

  std::string name() const override { return kName; }
  // Catches up with the log on the calling thread, then follows it on a thread of its own.
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;
  // Folds everything up to the log's current head on the calling thread and commits it.
  Status CatchUp();

  uint64_t position() const { return position_.load(std::memory_order_acquire); }
  // Waits until position() >= target, up to `timeout`: read-your-writes for the search route.
  bool WaitFor(uint64_t target, std::chrono::milliseconds timeout);

  Result<std::vector<KbHit>> Search(const KbQuery& q) const;
  Result<uint64_t> DocumentCount() const;
  const std::string& dir() const { return dir_; }

 private:
  KnowledgeBase(const LogStore& log, std::string dir, std::unique_ptr<KbIndex> index,
                uint64_t checkpoint);
  Status Apply(const std::vector<EventPtr>& events);
  void Loop();

  const LogStore& log_;
  const std::string dir_;
  mutable std::mutex index_mu_;  // Xapian databases are not safe across threads
  std::unique_ptr<KbIndex> index_;
  uint64_t committed_ = 0;
  std::atomic<uint64_t> position_{0};
  std::atomic<bool> stop_{false};
  std::unique_ptr<Subscription> sub_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable advanced_;
  Status failure_;
};

}  // namespace procedo::projections
