// Invoicing at period end: a reactor that, when a billing period of a periodic position has come
// due in the Ente's local time (a month once it has ended, a school year from its first day; see
// domain/billing_periods.h), sends the account's workflow `issue_invoice` as the system actor
// "invoicing", through the command handler like any other command. It reads the periodic
// positions from the accounts view (AccountsProjection::PeriodicKey rows) once the runner has
// folded the log's head. Exactly once: the idempotency key is the account and the period, so a
// second attempt (after a crash, or a restart from an older view) is answered from the log, and
// a refusal because the invoice exists already (an operator issued it) is counted, not an error.
// Every period that came due while the process was down is invoiced at start-up.
//
// A fee due at admission (a school year's, for a position admitted during the year or in the
// summer before it) is not left to the next periodic look: the reactor tails the log, and an
// account.opened of a periodic position with such a tariff wakes it to look at that account at
// once. The tail keeps no checkpoint of its own: what it missed in a crash is found by the full
// look every start makes, under the same idempotency keys.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/billing_periods.h"
#include "domain/calendars.h"
#include "domain/services.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/sla_timer.h"  // Waiter

namespace procedo::projections {

struct InvoicingOptions {
  // Invoices in flight at once: the writer group-commits them.
  size_t batch = 1024;
  // Bounds each wait for the accounts view to fold the log (a stuck runner is reported).
  std::chrono::milliseconds fold_wait{10'000};
  // How long, on the clock, it waits at most between full passes over every periodic position
  // (an admission's own fees do not wait for it: the tail of the log brings them).
  Micros rescan = std::chrono::minutes(10);
};

class Invoicing final : public Consumer {
 public:
  // Everything passed must outlive the reactor; `views` holds the accounts view, which the
  // runner bound with Bind applies.
  Invoicing(CommandHandler& commands, ViewStore& views, const domain::CalendarCatalog& calendars,
            const domain::ServiceCatalogue& services, Waiter& waiter,
            InvoicingOptions options = {});
  ~Invoicing() override;
  Invoicing(const Invoicing&) = delete;
  Invoicing& operator=(const Invoicing&) = delete;

  void Bind(ProjectionRunner& runner) { runner_ = &runner; }
  std::string name() const override { return "invoicing"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;
  Status Start(ProjectionRunner& runner) {
    Bind(runner);
    return Start();
  }

  // Tests: waits until the runner has applied the whole log and a pass at the clock's current
  // time found nothing more to send. False on timeout.
  bool WaitSettled(std::chrono::milliseconds timeout);

  uint64_t issued() const { return issued_.load(); }  // invoices appended by this process
  // Due periods whose invoice the log already had (answered from the log, or refused as issued).
  uint64_t already_invoiced() const { return already_.load(); }
  Status failure() const;

  static std::string IdempotencyKey(const std::string& account, const std::string& period);

 private:
  struct Due {
    std::string account;
    std::string tenant;
    std::string period;
  };
  void Loop();
  // Follows the log for the accounts an admission opens with a fee due at once.
  void Tail();
  // The invoices due at `now` (at most options_.batch); *more when the scan stopped early.
  Status Scan(TimePoint now, std::vector<Due>* due, bool* more);
  // The same for the given accounts only.
  Status ScanAccounts(const std::set<std::string>& accounts, TimePoint now, std::vector<Due>* due,
                      bool* more);
  // One periodic position's view row: appends what is due on it; false when the batch is full.
  bool DueOn(const std::string& row, TimePoint now, std::vector<Due>* due);
  // Sends them and waits until they fold back; false when one should be tried again soon.
  bool Send(const std::vector<Due>& due);
  // The first period start after `now` of any tenant with periodic positions.
  TimePoint NextBoundary(TimePoint now) const;

  CommandHandler& commands_;
  const LogStore& log_;
  ViewStore& views_;
  const domain::CalendarCatalog& calendars_;
  const domain::ServiceCatalogue& services_;
  Waiter& waiter_;
  InvoicingOptions options_;
  ProjectionRunner* runner_ = nullptr;
  std::thread thread_;
  std::thread tail_;
  std::unique_ptr<Subscription> sub_;
  std::atomic<uint64_t> tailed_{0};  // the last log position the tail has looked at
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> issued_{0}, already_{0};
  std::set<std::string> poisoned_;  // idempotency keys refused for good; see failure()
  std::set<std::string> tenants_;   // tenants seen with periodic positions, for NextBoundary
  mutable std::mutex mu_;
  std::condition_variable settled_cv_;
  std::set<std::string> opened_;  // guarded by mu_: accounts the tail saw opened, to look at
  bool idle_ = false;             // guarded by mu_
  uint64_t idle_epoch_ = 0;       // guarded by mu_
  Status failure_;                // guarded by mu_
};

}  // namespace procedo::projections
