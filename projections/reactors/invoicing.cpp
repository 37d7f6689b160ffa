#include "projections/reactors/invoicing.h"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "projections/views/accounts.h"

namespace procedo::projections {
namespace {

using domain::BillingPeriod;
using domain::PeriodKind;
using nlohmann::json;

// A position open for longer than this many periods is a broken row, not a backlog.
constexpr int kMaxPeriods = 2400;

std::optional<BillingPeriod> PeriodOfText(const std::string& instant, PeriodKind kind,
                                          const domain::BillingRule& rule) {
  auto day = domain::LocalDayOf(instant, rule);
  if (!day) return std::nullopt;
  return domain::PeriodOf(*day, kind, rule);
}

std::optional<BillingPeriod> FirstPeriodOfText(const std::string& instant, PeriodKind kind,
                                               const domain::BillingRule& rule) {
  auto day = domain::LocalDayOf(instant, rule);
  if (!day) return std::nullopt;
  return domain::FirstPeriodBilled(*day, kind, rule);
}

}  // namespace

Invoicing::Invoicing(CommandHandler& commands, ViewStore& views,
                     const domain::CalendarCatalog& calendars,
                     const domain::ServiceCatalogue& services, Waiter& waiter,
                     InvoicingOptions options)
    : commands_(commands),
      log_(commands.log()),
      views_(views),
      calendars_(calendars),
      services_(services),
      waiter_(waiter),
      options_(options) {}

Invoicing::~Invoicing() {
  Stop();
}

std::string Invoicing::IdempotencyKey(const std::string& account, const std::string& period) {
  return fmt::format("invoice:{}:{}", account, period);
}

Status Invoicing::Start() {
  if (thread_.joinable()) return Status::Ok();
  if (runner_ == nullptr) {
    return Status::InvalidArgument("the invoicing reactor has no projection runner; Bind one");
  }
  stop_ = false;
  // From the head on: what came before is the first full look's.
  sub_ = log_.Subscribe(log_.LastPosition() + 1);
  tailed_.store(log_.LastPosition());
  tail_ = std::thread([this] { Tail(); });
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Invoicing::Stop() {
  stop_ = true;
  if (sub_) sub_->Cancel();
  waiter_.Wake();
  if (tail_.joinable()) tail_.join();
  if (thread_.joinable()) thread_.join();
  sub_.reset();
}

namespace {

// An opening with a fee due at admission: a periodic position with a tariff per school year.
bool OpensWithFee(const Event& e) {
  if (e.type != "account.opened") return false;
  const json data = json::parse(e.data, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object() || data.value("regime", "") != "periodic") return false;
  for (const auto& t : data.value("tariffs", json::array())) {
    if (t.is_object() && t.value("period", "") == "school_year") return true;
  }
  return false;
}

}  // namespace

void Invoicing::Tail() {
  while (!stop_) {
    auto events = sub_->Next(1024, std::chrono::milliseconds(200));
    if (!events.ok()) return;  // cancelled, or the log is closing
    if (events->empty()) continue;
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& e : *events) {
        if (OpensWithFee(*e)) wake = opened_.insert(e->stream).second || wake;
      }
    }
    if (wake) waiter_.Wake();
    // After the wake: a test that sees the tail at the head also sees the loop not yet idle.
    {
      std::lock_guard lock(mu_);  // so that a waiter between its test and its sleep is told
      tailed_.store(events->back()->position);
    }
    settled_cv_.notify_all();
  }
}

ConsumerProgress Invoicing::Progress() const {
  ConsumerProgress p;
  p.position = runner_ != nullptr ? runner_->position() : 0;
  p.health = failure();
  p.counters = {{"issued", static_cast<double>(issued_.load())},
                {"already_invoiced", static_cast<double>(already_.load())}};
  return p;
}

Status Invoicing::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void Invoicing::Loop() {
  // The next look at every position; until then only the accounts the tail brings. The first
  // look is at once: what came due, or was opened, while the process was down.
  TimePoint full = TimePoint::min();
  while (!stop_) {
    const uint64_t epoch = waiter_.Epoch();
    std::set<std::string> opened;
    {
      std::lock_guard lock(mu_);
      opened.swap(opened_);
    }
    // The view as the log is now: a period invoiced a moment ago must not be sent again.
    const uint64_t head = log_.LastPosition();
    if (head > runner_->position() && !runner_->WaitFor(head, options_.fold_wait)) {
      Status f = runner_->failure();
      {
        std::lock_guard lock(mu_);
        failure_ = f.ok() ? Status::Unavailable("the accounts view is behind the log") : f;
        opened_.insert(opened.begin(), opened.end());  // looked at once the view has them
      }
      waiter_.WaitUntil(waiter_.clock().Now() + options_.rescan, epoch);
      continue;
    }
    const TimePoint now = waiter_.clock().Now();
    std::vector<Due> due;
    bool more = false;
    const bool whole = now >= full;
    if (Status st = whole ? Scan(now, &due, &more) : ScanAccounts(opened, now, &due, &more);
        !st.ok()) {
      std::lock_guard lock(mu_);
      failure_ = st;
    }
    // A tenant first met among the opened accounts has its own period ends to wake for.
    full = whole ? std::min(now + options_.rescan, NextBoundary(now))
                 : std::min(full, NextBoundary(now));
    if (!due.empty()) {
      const bool done = Send(due);
      if (more || !done) {
        full = TimePoint::min();  // the rest, or the retries, by a full look
        continue;
      }
    }
    TimePoint next = full;
    if (!due.empty()) continue;  // what it sent is folded: look once more before resting
    {
      std::lock_guard lock(mu_);
      idle_ = true;
      idle_epoch_ = epoch;
    }
    settled_cv_.notify_all();
    waiter_.WaitUntil(next, epoch);
    std::lock_guard lock(mu_);
    idle_ = false;
  }
}

Status Invoicing::Scan(TimePoint now, std::vector<Due>* due, bool* more) {
  constexpr size_t kPage = 256;
  const std::string prefix = AccountsProjection::PeriodicPrefix();
  std::string after;
  *more = false;
  for (;;) {
    auto rows = views_.Scan(AccountsProjection::kName, prefix, after, kPage);
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) after = rows->back().key;
    for (const auto& r : *rows) {
      if (!DueOn(r.value, now, due)) {
        *more = true;
        return Status::Ok();
      }
    }
    if (rows->size() < kPage) return Status::Ok();
  }
}

Status Invoicing::ScanAccounts(const std::set<std::string>& accounts, TimePoint now,
                               std::vector<Due>* due, bool* more) {
  *more = false;
  for (const auto& account : accounts) {
    auto row = views_.Get(AccountsProjection::kName, AccountsProjection::PeriodicKey(account));
    if (!row.ok()) return row.status();
    if (!*row) continue;  // not a periodic position
    if (!DueOn(**row, now, due)) {
      *more = true;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

bool Invoicing::DueOn(const std::string& value, TimePoint now, std::vector<Due>* due) {
  const json row = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!row.is_object()) return true;
  const std::string account = row.value("stream", "");
  const std::string tenant = row.value("tenant", "");
  tenants_.insert(tenant);
  const domain::BillingRule rule = domain::BillingRuleOf(&calendars_, &services_, tenant);
  const json& invoices = row.value("invoices", json::object());
  for (const auto& kind_name : row.value("periods", json::array())) {
    const PeriodKind kind =
        kind_name == "school_year" ? PeriodKind::kSchoolYear : PeriodKind::kMonth;
    const auto first = FirstPeriodOfText(row.value("opened_at", ""), kind, rule);
    if (!first) continue;
    const auto last = PeriodOfText(row.value("closed_at", ""), kind, rule);
    auto p = first;
    for (int n = 0; n < kMaxPeriods; ++n, p = domain::NextPeriod(*p, rule)) {
      if (!domain::CameDue(*p, first, now) || (last && p->begins > last->begins)) break;
      if (invoices.contains(p->id) || poisoned_.count(IdempotencyKey(account, p->id))) continue;
      if (due->size() >= options_.batch) return false;
      due->push_back({account, tenant, p->id});
    }
  }
  return true;
}

bool Invoicing::Send(const std::vector<Due>& due) {
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
  } latch;
  std::vector<Result<CommandOutcome>> results(due.size(), Status::Shutdown("not sent"));
  latch.left = due.size();
  // One account's periods one after another, in order, so that its invoices stand in the log as
  // its periods came (two in flight on one stream would also conflict); different accounts all
  // in flight at once, so that the writer takes them as one group commit.
  std::map<std::string, std::vector<size_t>> by_account;
  for (size_t i = 0; i < due.size(); ++i) by_account[due[i].account].push_back(i);
  std::function<void(const std::vector<size_t>*, size_t)> send =
      [&](const std::vector<size_t>* chain, size_t at) {
        const size_t i = (*chain)[at];
        Command cmd;
        cmd.stream = due[i].account;
        cmd.name = "issue_invoice";
        cmd.payload = {{"period", due[i].period}};
        cmd.idempotency_key = IdempotencyKey(due[i].account, due[i].period);
        commands_.HandleAsync(cmd, Actor::System("invoicing", due[i].tenant),
                              [&results, &latch, &send, chain, at, i](Result<CommandOutcome> r) {
                                results[i] = std::move(r);
                                if (at + 1 < chain->size()) send(chain, at + 1);
                                std::lock_guard lock(latch.mu);
                                if (--latch.left == 0) latch.cv.notify_all();
                              });
      };
  for (const auto& [account, chain] : by_account) send(&chain, 0);
  {
    std::unique_lock lock(latch.mu);
    latch.cv.wait(lock, [&] { return latch.left == 0; });
  }
  // Judged once the view has every append: a refusal is fine when the log holds the invoice.
  const uint64_t head = log_.LastPosition();
  if (!runner_->WaitFor(head, options_.fold_wait)) return false;
  bool done = true;
  for (size_t i = 0; i < due.size(); ++i) {
    const auto& r = results[i];
    const std::string key = IdempotencyKey(due[i].account, due[i].period);
    if (r.ok() && r->accepted()) {
      (r->append.deduplicated ? already_ : issued_).fetch_add(1);
      continue;
    }
    if (r.ok() || r.status().Is(Status::SubCode::kIdempotencyKeyReused)) {
      auto row =
          views_.Get(AccountsProjection::kName, AccountsProjection::PeriodicKey(due[i].account));
      json p = row.ok() && *row ? json::parse(**row, nullptr, false) : json();
      if (p.is_object() && p.value("invoices", json::object()).contains(due[i].period)) {
        already_.fetch_add(1);
        continue;
      }
      poisoned_.insert(key);
      std::lock_guard lock(mu_);
      failure_ = r.ok() ? Status::InvalidArgument(fmt::format("{} {}: {}", due[i].account,
                                                              due[i].period, r->rejection->message))
                        : r.status();
      continue;
    }
    // Another command on the account in between: the next pass sends it again.
    if (r.status().IsConflict()) {
      done = false;
      continue;
    }
    // Refused for good, or the log is failing: not retried by this process (no busy loop on a
    // broken disk); the next start tries again.
    poisoned_.insert(key);
    std::lock_guard lock(mu_);
    failure_ = r.status();
  }
  return done;
}

TimePoint Invoicing::NextBoundary(TimePoint now) const {
  TimePoint next = TimePoint::max();
  for (const auto& tenant : tenants_) {
    const domain::BillingRule rule = domain::BillingRuleOf(&calendars_, &services_, tenant);
    for (PeriodKind kind : {PeriodKind::kMonth, PeriodKind::kSchoolYear}) {
      if (auto p = domain::PeriodAt(now, kind, rule)) next = std::min(next, p->ends);
    }
  }
  return next;
}

bool Invoicing::WaitSettled(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  if (runner_ == nullptr || !runner_->WaitFor(log_.LastPosition(), timeout)) return false;
  std::unique_lock lock(mu_);
  return settled_cv_.wait_until(lock, until, [&] {
    const uint64_t head = log_.LastPosition();
    return idle_ && idle_epoch_ == waiter_.Epoch() && opened_.empty() && tailed_.load() >= head &&
           runner_->position() >= head;
  });
}

}  // namespace procedo::projections
