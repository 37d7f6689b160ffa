// Payments through pagoPA: a reactor that carries each debt position (workflow payment_position)
// to pagoPA's platform and brings back what happened there, as commands through the command
// handler like every other writer. It publishes each created position (the same IUPD, IUV and
// notice number on every retry: they were allocated in the log before any call), withdraws a
// cancelled one, asks the platform about each published one once its due date has passed (an
// expiry), and reads the receipts of payment, which are the only proof that something was paid:
// each becomes record_receipt with the idempotency key of its receipt id, and the position's
// decider applies it exactly once or records the anomaly (domain/payment_receipts.cpp). A receipt
// for a notice Procedo did not issue becomes an unmatched receipt of the tenant. Then the effect
// of a paid position, once: a top-up credits the prepaid account (its movement id is the receipt
// id, which the account's ledger will not take twice), an invoice is settled, an application
// fee is recorded on its enrolment (which may then be submitted).
//
// The reactor keeps no checkpoint: it follows the log from its start at every start, so what a
// crash interrupted is found again and sent under the same idempotency keys.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/payments.h"
#include "engine/views/consumer.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/sla_timer.h"  // Waiter

namespace procedo::projections {

// What the platform answered, as the reactor needs to act on it.
struct PlatformReply {
  enum class Kind {
    kDone,       // done, or found already done
    kRetry,      // no answer, a timeout, 5xx or 429: the same call again later
    kPermanent,  // refused (4xx): retrying cannot help, an operator must look
  };
  Kind kind = Kind::kDone;
  std::string platform_status;  // DRAFT, PUBLISHED, VALID, INVALID, EXPIRED, PAID, ...; "" unknown
  int http_status = 0;          // 0: no answer
  std::string detail;           // what went wrong, for the record; never holds the key
};

struct PositionToPublish {
  std::string org;  // the Ente's fiscal code
  std::string iupd, iuv, notice_number, description;
  int64_t amount_cents = 0;
  std::string due_utc;  // YYYY-MM-DDThh:mm:ss, UTC: the end of the due date in the Ente's time
  std::string debtor_type, debtor_fiscal_code, debtor_name;
  const domain::PaymentSettings* settings = nullptr;
  std::string category;
};

struct PlatformReceipt {
  std::string receipt_id, notice_number, iuv, creditor_fiscal_code, amount, outcome, paid_at,
      method, psp;
};

// pagoPA's debt positions and receipts (GPD), as the reactor needs them. adapters/pagopa speaks
// it over HTTP; tests may stand in for it.
class PaymentPlatform {
 public:
  virtual ~PaymentPlatform() = default;
  // Creates and publishes at once; a position found already there with the same numbers (the
  // answer to an earlier attempt was lost) is kDone.
  virtual PlatformReply Publish(const PositionToPublish& p) = 0;
  virtual PlatformReply Read(const std::string& org, const std::string& iupd) = 0;
  // Withdraws a position no one may pay any more; one never published is kDone with
  // platform_status "NOT_PUBLISHED".
  virtual PlatformReply Invalidate(const std::string& org, const std::string& iupd) = 0;
  // The IUVs with a receipt paid on or after `from` (YYYY-MM-DD), as the platform lists them.
  virtual Result<std::vector<std::string>> PaidSince(const std::string& org,
                                                     const std::string& from) = 0;
  virtual Result<PlatformReceipt> Receipt(const std::string& org, const std::string& iuv) = 0;
};

struct PaymentsOptions {
  std::chrono::seconds poll_interval{60};
  // How far back each poll of the receipts looks (the platform lists by payment date).
  std::chrono::hours lookback{48};
  // Retries of a call that got no answer: from `retry_base` doubling to `retry_max`, then the
  // failure is recorded (not permanent: the next start tries again).
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_max{300'000};
};

// The platform that serves a tenant (each Ente may have its own base URL and subscription key);
// null when none does, and the tenant's positions wait.
using PlatformOf = std::function<PaymentPlatform*(const std::string& tenant)>;

class PaymentsReactor final : public Consumer {
 public:
  PaymentsReactor(CommandHandler& commands, PlatformOf platform_of,
                  std::shared_ptr<const domain::PaymentSettingsSet> settings, Waiter& waiter,
                  PaymentsOptions options = {});
  // One platform for every tenant.
  PaymentsReactor(CommandHandler& commands, PaymentPlatform& platform,
                  std::shared_ptr<const domain::PaymentSettingsSet> settings, Waiter& waiter,
                  PaymentsOptions options = {});
  ~PaymentsReactor() override;

  std::string name() const override { return "payments"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

  // One pass as the thread makes it: publish, withdraw, expire, read receipts, apply effects.
  Status PassOnce();

 private:
  struct Position {
    std::string tenant, status, iuv, notice_number, iupd, purpose, reference, due_date, period;
    int64_t amount_cents = 0;
    std::string receipt_id, paid_at;  // of the payment that paid it
    bool failed_for_good = false, withdrawn = false, effect_done = false;
    int attempts = 0;
    TimePoint not_before{};
  };
  // A pass's receipts and effects, all in flight at once so that the writer commits them
  // together; one status per command, in order.
  struct Outgoing {
    std::string stream, command, key, tenant;
    nlohmann::json payload;
  };
  void Run();
  void Fold(const Event& e);
  Status Publish(const std::string& stream, Position& p);
  Status Withdraw(const std::string& stream, Position& p);
  Status CheckExpiry(const std::string& stream, Position& p);
  Status ReadReceipts(const std::string& tenant);
  // The command that applies a paid position's effect (a top-up credits its account).
  Outgoing EffectOf(const std::string& stream, const Position& p) const;
  Status Send(const std::string& stream, const std::string& command, nlohmann::json payload,
              const std::string& key, const std::string& tenant);
  std::vector<Status> SendAll(const std::vector<Outgoing>& out);
  Status Judge(const Outgoing& o, const Result<CommandOutcome>& r);
  // The tenant's pagoPA settings and the platform that serves it; nullopt when it takes no
  // payments or no platform serves it.
  struct Station {
    const domain::PaymentSettings& settings;
    PaymentPlatform& platform;
  };
  std::optional<Station> StationOf(const std::string& tenant) const;
  enum class Call { kPublish, kWithdraw, kRead };
  // After a failed call: later, or the call's failure recorded when the attempts are spent or
  // the platform refused it for good.
  Status Retry(const std::string& stream, Position& p, const PlatformReply& r, Call call);

  CommandHandler& commands_;
  PlatformOf platform_of_;
  std::shared_ptr<const domain::PaymentSettingsSet> settings_;
  Waiter& waiter_;
  PaymentsOptions options_;
  std::unique_ptr<Subscription> sub_;

  // The pass thread's own, apart from what Progress reads under mu_.
  std::map<std::string, Position> positions_;           // by stream
  std::map<std::string, std::string> by_iuv_;           // tenant/iuv -> stream
  std::set<std::string> effects_seen_;                  // of receipts, by their token
  std::map<std::string, std::string> awaiting_effect_;  // token -> the paid position
  std::set<std::string> unmatched_;                     // receipt ids recorded as unmatched
  std::set<std::string> seen_receipts_;                 // tenant/iuv/receipt already sent this run
  TimePoint next_poll_{};

  mutable std::mutex mu_;
  Status health_;
  std::string last_refusal_;
  std::map<std::string, double> counters_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace procedo::projections
