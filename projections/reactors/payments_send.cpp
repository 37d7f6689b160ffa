// The payments reactor's commands: all of a pass in flight at once, so that the writer commits
// them together, and each outcome judged as the reactor needs it.
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>

#include "projections/reactors/payments.h"

namespace procedo::projections {

using nlohmann::json;

namespace {
constexpr const char* kActor = "payments";
}  // namespace

Status PaymentsReactor::Send(const std::string& stream, const std::string& command, json payload,
                             const std::string& key, const std::string& tenant) {
  return SendAll({{stream, command, key, tenant, std::move(payload)}}).front();
}

std::vector<Status> PaymentsReactor::SendAll(const std::vector<Outgoing>& out) {
  std::vector<Result<CommandOutcome>> results(out.size(), Status::Unavailable("not sent"));
  struct {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
  } latch;
  latch.left = out.size();
  auto issue = [&](size_t from, size_t step) {
    for (size_t i = from; i < out.size(); i += step) {
      Command c;
      c.stream = out[i].stream;
      c.name = out[i].command;
      c.payload = out[i].payload;
      c.idempotency_key = out[i].key;
      commands_.HandleAsync(c, Actor::System(kActor, out[i].tenant),
                            [&results, &latch, i](Result<CommandOutcome> r) {
                              results[i] = std::move(r);
                              std::lock_guard lock(latch.mu);
                              if (--latch.left == 0) latch.cv.notify_all();
                            });
    }
  };
  // Deciding is the caller's work (HandleAsync decides on the calling thread): a large pass
  // (a day's receipts after an outage) decides on every core, the writer still committing
  // them together. Commands of one pass name different streams, so they never conflict.
  const size_t helpers =
      out.size() < 256 ? 0 : std::max(1u, std::thread::hardware_concurrency()) - 1;
  std::vector<std::thread> deciders;
  for (size_t t = 1; t <= helpers; ++t) deciders.emplace_back(issue, t, helpers + 1);
  issue(0, helpers + 1);
  for (auto& d : deciders) d.join();
  {
    std::unique_lock lock(latch.mu);
    latch.cv.wait(lock, [&] { return latch.left == 0; });
  }
  std::vector<Status> statuses;
  statuses.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) statuses.push_back(Judge(out[i], results[i]));
  return statuses;
}

Status PaymentsReactor::Judge(const Outgoing& o, const Result<CommandOutcome>& out) {
  std::lock_guard lock(mu_);
  if (!out.ok()) {
    // Sent before and durable (a retry after a crash): the log holds it, which is all we want.
    if (out.status().Is(Status::SubCode::kIdempotencyKeyReused)) {
      counters_["already"]++;
      return Status::Ok();
    }
    counters_["errors"]++;
    return out.status();
  }
  if (!out->accepted()) {
    // The stream moved on meanwhile (cancelled while it was being published): the next pass
    // sees its new state. Counted, never retried as such; the reason stays readable in /readyz.
    counters_["refused"]++;
    last_refusal_ = fmt::format("{} on {}: {}", o.command, o.stream, out->rejection->message);
    return Status::Ok();
  }
  counters_[o.command]++;
  return Status::Ok();
}

}  // namespace procedo::projections
