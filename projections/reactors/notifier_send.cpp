// The notifier's sending side: credentials owed, delivery attempts with backoff, and the
// notification.* records; the fold of the log that decides what is owed is in notifier.cpp.
#include <fmt/format.h>
#include <signal.h>

#include "engine/calendar/calendar.h"
#include "projections/reactors/notifier.h"
#include "projections/reactors/notifier_state.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

// A failed attempt is the last when the attempts are spent, or when sending can never succeed:
// the recipient's address was erased (PermissionDenied).
bool LastAttempt(const Status& outcome, int attempts, int max_attempts) {
  return outcome.code() == Status::Code::kPermissionDenied || attempts >= max_attempts;
}

}  // namespace

std::chrono::milliseconds RetryDelay(std::chrono::milliseconds base, std::chrono::milliseconds max,
                                     int attempt) {
  std::chrono::milliseconds d = base;
  for (int i = 1; i < attempt && d < max; ++i) d *= 2;
  return std::min(d, max);
}

Status Notifier::IssueCredentials(const std::string& case_stream) {
  auto stored = state_.Get(kNotifierView, FactsKey(case_stream));
  if (!stored.ok()) return stored.status();
  if (!*stored) return Status::Corruption(fmt::format("notifier: no facts of {}", case_stream));
  auto decoded = DecodeFacts(**stored);
  if (!decoded.ok()) return decoded.status();
  const CaseFacts& f = decoded->facts;
  auto cmd = domain::IssueCredentialsCommand(options_.secret, options_.hash_cost, case_stream,
                                             f.case_code, f.tenant, 1, "", options_.clock->Now());
  if (!cmd.ok()) return cmd.status();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto outcome = commands_.Handle(*cmd, Actor::System("notifier", f.tenant));
    if (outcome.ok() && outcome->accepted()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.credentials_issued;
      return Status::Ok();
    }
    // Refused: the first credentials are there already (recorded before a crash, not yet folded).
    if (outcome.ok()) return Status::Ok();
    // A login lockout or an opt-out landed on the same citizen stream meanwhile: decide again.
    if (!outcome.status().IsConflict()) return outcome.status();
  }
  return Status::Unavailable(fmt::format("could not record credentials of {}", case_stream));
}

Status Notifier::Record(const Pending& p, const Status& outcome) {
  const OutgoingMessage& m = p.message;
  TimePoint now = options_.clock->Now();
  Command cmd;
  cmd.stream = "notification-" + m.message_id;
  cmd.name = outcome.ok() ? "record_sent" : "record_failure";
  cmd.causation_id = m.source_event_id;
  json& data = cmd.payload;
  data = {{"message_id", m.message_id},
          {"channel", m.channel},
          {"recipient", m.recipient},
          {"source_stream", m.source_stream},
          {"source_event_id", m.source_event_id},
          {"source_type", m.source_type},
          {"attempt", p.attempts}};
  if (outcome.ok()) {
    data["sent_at"] = FormatTime(now);
  } else {
    data["error"] = outcome.message().substr(0, 2000);
    data["failed_at"] = FormatTime(now);
    if (LastAttempt(outcome, p.attempts, options_.max_attempts)) {
      data["final"] = true;
    } else {
      data["retry_at"] = FormatTime(p.next_try);
    }
  }
  in_flight_.fetch_add(1);
  commands_.HandleAsync(cmd, Actor::System("notifier", p.tenant), [this](Result<CommandOutcome> r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failure_.ok()) {
      if (!r.ok())
        failure_ = r.status();
      else if (!r->accepted())
        failure_ = Status::InvalidArgument(r->rejection->message);
    }
    in_flight_.fetch_sub(1);
    drained_.notify_all();
  });
  return Status::Ok();
}

Result<size_t> Notifier::Flush() {
  for (auto it = need_credentials_.begin(); it != need_credentials_.end();) {
    if (Status s = IssueCredentials(*it); !s.ok()) return s;
    // Its row goes when citizen.credentials_issued comes back from the log.
    it = need_credentials_.erase(it);
  }
  size_t attempts = 0;
  TimePoint now = options_.clock->Now();
  while (!queue_.empty() && queue_.begin()->first.first <= now && !stop_.load()) {
    std::string id = queue_.begin()->second;
    queue_.erase(queue_.begin());
    auto pit = pending_.find(id);
    if (pit == pending_.end()) continue;
    Pending& p = pit->second;
    p.queued = {};
    Status outcome = sender_.Send(p.message);
#ifdef PROCEDO_FAULT_POINTS
    if (outcome.ok() && options_.crash_after_send) ::raise(SIGKILL);
#endif
    ++attempts;
    ++p.attempts;
    bool final = outcome.ok() || LastAttempt(outcome, p.attempts, options_.max_attempts);
    if (!final) p.next_try = now + RetryDelay(options_.retry_base, options_.retry_max, p.attempts);
    if (Status s = Record(p, outcome); !s.ok()) return s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (outcome.ok())
        ++stats_.sent;
      else
        ++stats_.failed_attempts;
      if (!outcome.ok() && final) ++stats_.gave_up;
    }
    if (final) {
      pending_.erase(pit);
    } else {
      Schedule(p, p.next_try);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.pending = pending_.size();
  return attempts;
}

Result<size_t> Notifier::Pump(std::chrono::milliseconds wait) {
  if (!sub_) {
    if (Status s = CatchUp(); !s.ok()) return s;
  }
  auto events = sub_->Next(4096, wait);
  if (!events.ok()) return events.status();
  std::vector<const Event*> folded;
  for (const auto& e : *events) folded.push_back(e.get());
  if (Status s = Fold(folded); !s.ok()) return s;
  return Flush();
}

void Notifier::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] { return in_flight_.load() == 0; });
}

Status Notifier::Start() {
  if (!sub_) {
    if (Status s = CatchUp(); !s.ok()) return s;
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Notifier::Loop() {
  while (!stop_.load()) {
    auto wait = std::chrono::milliseconds(200);
    if (!queue_.empty()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
          queue_.begin()->first.first - options_.clock->Now());
      wait = std::clamp(until, std::chrono::milliseconds(0), wait);
    }
    auto r = Pump(wait);
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kShutdown) return;
      std::lock_guard<std::mutex> lock(mu_);
      failure_ = r.status();
      return;
    }
  }
}

void Notifier::Stop() {
  stop_.store(true);
  if (sub_) sub_->Cancel();
  if (thread_.joinable()) thread_.join();
}

NotifierStats Notifier::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status Notifier::failure() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

}  // namespace procedo::projections
