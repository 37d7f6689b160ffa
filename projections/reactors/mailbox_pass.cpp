// One pass of the mailbox reactor over the new messages, in groups: the originals of a group
// are synced once, its new tickets appended together (the command handler numbers them past one
// another, so they share a group commit), and its messages flagged with one IMAP command, only
// after everything they caused is durable. The checkpoint moves past a group once it is flagged.
#include <fmt/format.h>

#include <condition_variable>
#include <csignal>
#include <mutex>

#include "projections/reactors/mailbox.h"

namespace procedo::projections {

Status MailboxReactor::OpenTickets(const std::vector<Command>& opens) {
  if (opens.empty()) return Status::Ok();
  if (Status s = SyncBlobs(); !s.ok()) return s;
  std::mutex mu;
  std::condition_variable cv;
  size_t waiting = opens.size();
  std::vector<Result<CommandOutcome>> results(opens.size(), Status::Unavailable("not answered"));
  const Actor actor = Actor::System("mailbox", options_.tenant);
  for (size_t i = 0; i < opens.size(); ++i) {
    commands_.HandleAsync(opens[i], actor, [&, i](Result<CommandOutcome> r) {
      std::lock_guard lock(mu);
      results[i] = std::move(r);
      if (--waiting == 0) cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return waiting == 0; });
  }
  for (size_t i = 0; i < opens.size(); ++i) {
    if (results[i].ok() && results[i]->accepted()) continue;
    // A retry of a message filed before a crash (its ticket exists, its key is used), or a
    // number taken meanwhile by another writer: the synchronous path answers it from the log
    // or allocates again.
    auto again = commands_.Handle(opens[i], actor);
    if (!again.ok()) return again.status();
    if (!again->accepted()) {
      return Status::Corruption(fmt::format(
          "the help-desk workflow refused to open a ticket for a message of the mailbox ({}): "
          "{}; fix the workflow's open_ticket command or the mailbox reactor",
          opens[i].payload.value("email", nlohmann::json::object()).value("message_id", ""),
          again->rejection->message));
    }
  }
  return Status::Ok();
}

Status MailboxReactor::PollOnce() {
  // The checkpoint only spares the next pass a re-read: the flags and the idempotency keys keep
  // what was filed from being filed twice. So it is written once a pass, not once a message.
  auto fail = [this](Status s) {
    if (Status saved = SaveCheckpoint(); s.ok()) s = saved;
    std::lock_guard lock(mu_);
    health_ = s;
    return s;
  };
  auto status = source_.State();
  if (!status.ok()) return fail(status.status());
  if (status->uidvalidity != uidvalidity_) {
    // A new or rebuilt mailbox: its UIDs start again. Flags and idempotency keys still keep
    // what was filed from being filed twice.
    std::lock_guard lock(mu_);
    uidvalidity_ = status->uidvalidity;
    last_uid_ = 0;
  }
  auto list = source_.List(last_uid_ + 1);
  if (!list.ok()) return fail(list.status());
  {
    std::lock_guard lock(mu_);
    pending_ = 0;
    for (const auto& m : *list) pending_ += m.uid > last_uid_ ? 1 : 0;
  }
  static constexpr const char* kNames[] = {"opened",   "filed",   "resumed",
                                           "reopened", "ignored", "refused"};
  for (size_t first = 0; first < list->size(); first += kGroup) {
    if (!running_ && thread_.joinable()) break;
    const size_t end = std::min(first + kGroup, list->size());
    std::vector<Command> opens;
    std::vector<uint64_t> to_flag;
    std::map<std::string, double> counted;
    uint64_t through = 0, seen = 0;
    for (size_t i = first; i < end; ++i) {
      const MailSummary& m = (*list)[i];
      if (m.uid <= last_uid_) continue;
      through = m.uid;
      ++seen;
      if (m.filed) continue;
      auto outcome = Handle(m, status->uidvalidity, &opens);
      if (!outcome.ok()) return fail(outcome.status());
      counted[kNames[static_cast<int>(*outcome)]] += 1;
      to_flag.push_back(m.uid);
    }
    if (Status s = OpenTickets(opens); !s.ok()) return fail(s);
#ifdef PROCEDO_FAULT_POINTS
    if (options_.crash_after_file && !to_flag.empty()) ::raise(SIGKILL);
#endif
    // Only now, with every command of the group durable, are its messages flagged.
    if (!to_flag.empty()) {
      if (Status s = source_.MarkFiled(to_flag); !s.ok()) return fail(s);
    }
    std::lock_guard lock(mu_);
    for (const auto& [name, n] : counted) counters_[name] += n;
    if (through > 0) last_uid_ = through;
    pending_ -= std::min(pending_, seen);
  }
  return fail(Status::Ok());
}

}  // namespace procedo::projections
