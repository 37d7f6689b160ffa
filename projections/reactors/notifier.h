// The notifier: a reactor that turns case, ticket and SLA events into e-mails and SMS, records
// each delivery's outcome as an event and retries failures with exponential backoff. Exactly one
// message per (event, channel, recipient): see projections/NOTIFY.md. What it knows of the log
// is a fold kept with its checkpoint (notifier_state.h), so a restart reads only what is new.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/views/consumer.h"
#include "engine/workflow/command_handler.h"
#include "engine/log/log_store.h"
#include "engine/views/view_store.h"
#include "domain/citizen_access.h"
#include "projections/reactors/notify_plan.h"
#include "projections/reactors/notifier_state.h"
#include "projections/reactors/notify_templates.h"
#include "projections/views/calendar_set.h"

namespace procedo::projections {

// Implemented by adapters/notify (SMTP, SMS gateway); injected by `procedo serve`.
class MessageSender {
 public:
  virtual ~MessageSender() = default;
  // Must carry message.message_id to the far side (Message-ID, Idempotency-Key). A non-ok status
  // is a failed attempt; its message is recorded in notification.failed.
  virtual Status Send(const OutgoingMessage& message) = 0;
};

struct NotifierOptions {
  std::string secret;  // LoadOrCreateSecret
  std::string base_url = "http://127.0.0.1:8080";
  std::string sla_fallback_email;  // SLA breaches of streams without an office address
  bool email = true, sms = true;   // the channels there are a sender for
  std::map<std::string, nlohmann::json> catalogue_by_kind;   // see PlanContext
  std::shared_ptr<const domain::CalendarCatalog> tenants;    // see PlanContext
  std::map<std::string, std::string> reply_to;               // see PlanContext
  std::shared_ptr<const domain::ServiceCatalogue> services;  // see PlanContext
  // The workflows whose SLA clocks give the times a ticket's messages promise (with `tenants`'
  // calendars); null: the messages promise none.
  const WorkflowSet* workflows = nullptr;
  // Whether events from before the notifier first ran on this log get their messages. The first
  // start appends notification.service_started; with history false, the events before it only
  // teach the notifier facts (a log of years must not become a flood of stale messages).
  bool history = true;
  int max_attempts = 6;
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{std::chrono::minutes(30)};
  domain::PasswordHashCost hash_cost = domain::PasswordHashCost::Interactive();
  const Clock* clock = &SystemClock::Instance();
  // Fault point (only in builds with PROCEDO_FAULT_POINTS): SIGKILL the process right after the
  // first successful send, before recording it.
  bool crash_after_send = false;
};

// Delay before attempt `attempt + 1` after `attempt` failures: base * 2^(attempt-1), capped.
std::chrono::milliseconds RetryDelay(std::chrono::milliseconds base, std::chrono::milliseconds max,
                                     int attempt);

struct NotifierStats {
  uint64_t sent = 0, failed_attempts = 0, gave_up = 0, credentials_issued = 0;
  uint64_t position = 0;  // last log position the notifier has read
  size_t pending = 0;
  uint64_t resumed_from = 0;  // the checkpoint this process started from
  uint64_t applied = 0;       // events this process has folded
  bool rebuilt = false;       // the checkpoint was ahead of the log, so the state was dropped
  uint64_t notify_from = 0;   // events before this position plan no messages (history false)
};

// The stream of notification.service_started, appended the first time a notifier runs on a log.
inline constexpr const char* kNotifierServiceStream = "notification-service";

class Notifier final : public Consumer {
 public:
  // Everything passed must outlive the notifier. `state` must have been opened with
  // kNotifierView among its column families, and be used by this notifier alone.
  // Its records (delivery outcomes, credentials, the start marker) are commands of the
  // notification and citizen workflows, sent through `commands`.
  Notifier(CommandHandler& commands, ViewStore& state, const TemplateSet& templates,
           MessageSender& sender, NotifierOptions options);
  ~Notifier() override;

  // Loads the owed messages and credentials of the stored state, then folds the log from its
  // checkpoint to the head (the facts of every case and ticket, which messages got a
  // notification.sent or a final notification.failed, which are still owed), committing each
  // page with the checkpoint. Sends nothing.
  Status CatchUp();
  // Issues missing credentials, then sends every owed message whose time has come and records
  // the outcome. Returns the number of delivery attempts.
  Result<size_t> Flush();
  // Reads what is new in the log (up to `wait` for it), then Flush(). For tests and benchmarks.
  Result<size_t> Pump(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Waits until every record appended so far is in the log.
  void Drain();

  // CatchUp on the calling thread, then Pump on a thread of its own until Stop.
  std::string name() const override { return "notifier"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;
  NotifierStats stats() const;
  Status failure() const;

 private:
  struct Pending {
    OutgoingMessage message;
    std::string tenant;
    int attempts = 0;
    TimePoint next_try{};
    // Its key in queue_; sequence 0 means not queued (sequences start at 1, so that an entry
    // not yet queued never names another's key and unqueues it).
    std::pair<TimePoint, uint64_t> queued{};
  };
  Status Load();
  // Reads (or, on the first start, appends) notification.service_started: notify_from_.
  Status MarkStart();
  // Folds `events` into the state and commits them with the checkpoint.
  Status Fold(const std::vector<const Event*>& events);
  Status Apply(const Event& e, ViewWriter& rows);
  // Moves a ticket's clocks with its event by the one clock rule and keeps in its facts the times
  // they promise; folds the closures every later deadline counts with.
  Status FoldTicketClocks(const Event& e, StoredFacts& sf, ViewWriter& rows);
  // A closure announced or cancelled: folded into the calendars; an announcement is told to the
  // requesters of the tenant's open tickets whose clocks count on that calendar.
  Status FoldClosure(const Event& e, const nlohmann::json& data, ViewWriter& rows);
  Status Owe(OutgoingMessage m, const std::string& tenant, ViewWriter& rows);
  void Forget(const std::string& message_id);
  void Schedule(Pending& p, TimePoint at);
  Status IssueCredentials(const std::string& case_stream);
  Status Record(const Pending& p, const Status& outcome);
  void Loop();

  CommandHandler& commands_;
  const LogStore& log_;
  ViewStore& state_;
  const TemplateSet& templates_;
  MessageSender& sender_;
  NotifierOptions options_;
  PlanContext plan_;  // from options_
  std::unique_ptr<CalendarSet> calendars_;  // with options_.workflows and options_.tenants
  std::unique_ptr<Subscription> sub_;

  // In memory only what is owed; the facts of cases and tickets stay in the state store. pending_
  // runs ahead of the stored rows: a message leaves it when delivered or given up, its row when
  // the record of that comes back from the log.
  std::set<std::string> need_credentials_;            // started with consent, none issued yet
  std::map<std::string, std::set<std::string>> open_tickets_;  // tenant -> open ticket streams
  std::unordered_map<std::string, Pending> pending_;  // by message id
  std::map<std::pair<TimePoint, uint64_t>, std::string> queue_;  // (next try, seq) -> id
  uint64_t seq_ = 1;
  uint64_t notify_from_ = 0;

  std::atomic<uint64_t> in_flight_{0};
  mutable std::mutex mu_;  // stats_, failure_
  std::condition_variable drained_;
  NotifierStats stats_;
  Status failure_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace procedo::projections
