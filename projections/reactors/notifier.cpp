// The notifier's fold of the log: facts of cases and tickets, messages owed, credentials owed,
// committed with the checkpoint (notifier_state.h). Sending is in notifier_send.cpp.
#include "projections/reactors/notifier.h"

#include <fmt/format.h>

#include "domain/closures.h"
#include "engine/calendar/calendar.h"
#include "projections/reactors/notifier_state.h"

namespace procedo::projections {

using domain::DerivePassword;
namespace {

using nlohmann::json;

}  // namespace

Notifier::Notifier(CommandHandler& commands, ViewStore& state, const TemplateSet& templates,
                   MessageSender& sender, NotifierOptions options)
    : commands_(commands),
      log_(commands.log()),
      state_(state),
      templates_(templates),
      sender_(sender),
      options_(std::move(options)),
      plan_{options_.base_url,
            options_.sla_fallback_email,
            options_.email,
            options_.sms,
            options_.catalogue_by_kind,
            [this](const std::string& s, uint64_t n) {
              return DerivePassword(options_.secret, s, n);
            },
            [this](const std::string& tenant, const std::string& s) {
              return domain::DeriveTicketKey(options_.secret, tenant, s);
            },
            options_.tenants,
            options_.reply_to,
            options_.services} {
  if (options_.workflows != nullptr && options_.tenants) {
    calendars_ = std::make_unique<CalendarSet>(*options_.tenants);
  }
}

Notifier::~Notifier() {
  Stop();
  Drain();
}

void Notifier::Forget(const std::string& message_id) {
  auto it = pending_.find(message_id);
  if (it == pending_.end()) return;
  if (it->second.queued.second != 0) queue_.erase(it->second.queued);
  pending_.erase(it);
}

Status Notifier::Apply(const Event& e, ViewWriter& rows) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.position = e.position;
    ++stats_.applied;
  }
  json data = json::parse(e.data, nullptr, false);
  if (!data.is_object()) return Status::Ok();
  if (e.type == "notification.sent" || e.type == "notification.failed") {
    std::string id = data.value("message_id", "");
    bool final = e.type == "notification.sent" || data.value("final", false);
    if (final) {
      rows.Delete(PendingKey(id));
      Forget(id);
      return Status::Ok();
    }
    // The stored row follows the log; the in-memory entry may be ahead of it (an attempt whose
    // record is still on its way), so both take the larger count.
    auto retry = ParseRfc3339(data.value("retry_at", ""));
    TimePoint at = retry.ok() ? *retry : options_.clock->Now();
    auto row = rows.Get(PendingKey(id));
    if (!row.ok()) return row.status();
    if (*row) {
      auto p = DecodePending(**row, options_.secret);
      if (!p.ok()) return p.status();
      p->attempts = std::max(p->attempts, data.value("attempt", 0));
      p->retry_at = at;
      rows.Put(PendingKey(id), EncodePending(*p, options_.secret));
    }
    if (auto it = pending_.find(id); it != pending_.end()) {
      // A restart continues the backoff where the crashed run left it.
      it->second.attempts = std::max(it->second.attempts, data.value("attempt", 0));
      Schedule(it->second, at);
    }
    return Status::Ok();
  }
  if (calendars_ && (e.type == domain::kClosureAnnounced || e.type == domain::kClosureCancelled)) {
    return FoldClosure(e, data, rows);
  }
  std::string fs = FactsStream(e, data);
  if (fs.empty()) return Status::Ok();
  auto stored = rows.Get(FactsKey(fs));
  if (!stored.ok()) return stored.status();
  StoredFacts sf;
  if (*stored) {
    auto decoded = DecodeFacts(**stored);
    if (!decoded.ok()) return decoded.status();
    sf = std::move(decoded).value();
  }
  if (e.type == "citizen.credentials_issued") {
    sf.issued = std::max(sf.issued, data.value("issue", uint64_t{0}));
    rows.Delete(OwedCredentialsKey(fs));
    need_credentials_.erase(fs);
  }
  if (Status s = FoldTicketClocks(e, sf, rows); !s.ok()) return s;
  CaseFacts& facts = sf.facts;
  auto planned = PlanMessages(e, data, fs, facts, templates_, plan_);
  if (!planned.ok()) {
    return Status::InvalidArgument(fmt::format("notifier: event {} ({}): {}", e.position, e.type,
                                               planned.status().message()));
  }
  // Before the service started (history off): the facts count, the messages are not owed.
  if (e.position < notify_from_) planned->clear();
  // Credentials only when a message can carry them (the start message is planned just above).
  if (e.type == "case.started" && sf.issued == 0 && !planned->empty()) {
    rows.Put(OwedCredentialsKey(fs), "");
    need_credentials_.insert(fs);
  }
  if (e.type == "citizen.opted_out") {
    // Seed 002 section 8: nothing more goes out for the case, not even what was owed before.
    // SLA breaches go to the office, not to the citizen, and stay.
    std::vector<std::string> drop;
    for (const auto& [id, p] : pending_) {
      if (p.message.source_stream == fs && p.message.source_type != "sla.breached") {
        drop.push_back(id);
      }
    }
    for (const auto& id : drop) {
      rows.Delete(PendingKey(id));
      Forget(id);
    }
  }
  std::string encoded = EncodeFacts(sf);
  if (!*stored || **stored != encoded) rows.Put(FactsKey(fs), encoded);
  for (auto& m : *planned) {
    if (Status s = Owe(std::move(m), facts.tenant, rows); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Notifier::Owe(OutgoingMessage m, const std::string& tenant, ViewWriter& rows) {
  if (pending_.count(m.message_id)) return Status::Ok();
  PendingRow row{m, tenant, 0, {}};
  rows.Put(PendingKey(m.message_id), EncodePending(row, options_.secret));
  std::string id = m.message_id;
  Pending& p = pending_[id];
  p.message = std::move(m);
  p.tenant = tenant;
  Schedule(p, options_.clock->Now());
  return Status::Ok();
}

void Notifier::Schedule(Pending& p, TimePoint at) {
  if (p.queued.second != 0) queue_.erase(p.queued);
  p.next_try = at;
  p.queued = {at, seq_++};
  queue_[p.queued] = p.message.message_id;
}

Status Notifier::Fold(const std::vector<const Event*>& events) {
  if (events.empty()) return Status::Ok();
  auto batch = state_.NewBatch();
  ViewWriter& rows = batch->For(kNotifierView);
  uint64_t last = 0;
  for (const Event* e : events) {
    if (Status s = Apply(*e, rows); !s.ok()) return s;
    last = e->position;
  }
  batch->SetCheckpoint(kNotifierView, last);
  return state_.Commit(*batch);
}

Status Notifier::Load() {
  for (std::string after;;) {
    auto page = state_.Scan(kNotifierView, kPendingPrefix, after, 1024);
    if (!page.ok()) return page.status();
    for (const auto& r : *page) {
      auto row = DecodePending(r.value, options_.secret);
      if (!row.ok()) return row.status();
      Pending& p = pending_[row->message.message_id];
      p.message = std::move(row->message);
      p.tenant = std::move(row->tenant);
      p.attempts = row->attempts;
      Schedule(p, row->retry_at);
    }
    if (page->size() < 1024) break;
    after = page->back().key;
  }
  for (std::string after;;) {
    auto page = state_.Scan(kNotifierView, kOpenTicketPrefix, after, 1024);
    if (!page.ok()) return page.status();
    for (const auto& r : *page) {
      const std::string rest = r.key.substr(std::string(kOpenTicketPrefix).size());
      const size_t slash = rest.find('/');
      if (slash != std::string::npos) {
        open_tickets_[rest.substr(0, slash)].insert(rest.substr(slash + 1));
      }
    }
    if (page->size() < 1024) break;
    after = page->back().key;
  }
  for (std::string after;;) {
    auto page = state_.Scan(kNotifierView, kOwedCredentialsPrefix, after, 1024);
    if (!page.ok()) return page.status();
    for (const auto& r : *page) {
      need_credentials_.insert(r.key.substr(std::string(kOwedCredentialsPrefix).size()));
    }
    if (page->size() < 1024) break;
    after = page->back().key;
  }
  return Status::Ok();
}

ConsumerProgress Notifier::Progress() const {
  const NotifierStats st = stats();
  ConsumerProgress p;
  p.position = st.position;
  p.health = failure();
  p.counters = {{"sent", static_cast<double>(st.sent)},
                {"failed_attempts", static_cast<double>(st.failed_attempts)},
                {"gave_up", static_cast<double>(st.gave_up)},
                {"credentials_issued", static_cast<double>(st.credentials_issued)},
                {"pending", static_cast<double>(st.pending)}};
  return p;
}

Status Notifier::MarkStart() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto marker = log_.ReadStream(kNotifierServiceStream, 1, Direction::kForward, 1);
    if (!marker.ok()) return marker.status();
    if (!marker->empty()) {
      const Event& m = marker->front();
      bool history = json::parse(m.data, nullptr, false).value("history", true);
      notify_from_ = history ? 0 : m.position;
      return Status::Ok();
    }
    Command cmd;
    cmd.stream = kNotifierServiceStream;
    cmd.name = "mark_service_started";
    cmd.payload = {{"history", options_.history},
                   {"started_at", FormatTime(options_.clock->Now())}};
    auto done = commands_.Handle(cmd, Actor::System("notifier"));
    // Recorded, or another process did first (refused: the stream exists): read the log.
    if (!done.ok() && !done.status().IsConflict()) return done.status();
  }
  return Status::Unavailable("could not read or record notification.service_started");
}

Status Notifier::CatchUp() {
  if (!sub_) {
    if (Status s = MarkStart(); !s.ok()) return s;
  }
  uint64_t head = log_.LastPosition();
  if (!sub_) {
    uint64_t checkpoint = state_.Checkpoint(kNotifierView);
    bool rebuilt = false;
    if (checkpoint > head) {
      // The log is shorter than what the state has seen (restored from an older backup, or
      // unsynced writes lost): that state may owe nothing for events that no longer exist, or
      // miss some. Fold again from the start; message ids keep the deliveries exactly once.
      if (Status s = state_.Drop(kNotifierView); !s.ok()) return s;
      checkpoint = 0;
      rebuilt = true;
    }
    if (Status s = Load(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.position = checkpoint;
    stats_.resumed_from = checkpoint;
    stats_.rebuilt = rebuilt;
    stats_.notify_from = notify_from_;
  }
  uint64_t from = stats().position + 1;
  while (from <= head) {
    auto page = log_.ReadAll(from, 4096);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    std::vector<const Event*> events;
    for (const auto& e : *page) events.push_back(&e);
    if (Status s = Fold(events); !s.ok()) return s;
    from = page->back().position + 1;
  }
  sub_ = log_.Subscribe(from);
  return Status::Ok();
}

}  // namespace procedo::projections
