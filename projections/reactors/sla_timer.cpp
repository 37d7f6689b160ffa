#include "projections/reactors/sla_timer.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "engine/log/codec.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

constexpr size_t kMaxKeyBytes = 200;  // the log's limit on idempotency keys

TimePoint At(int64_t micros) {
  return TimePoint(Micros(micros));
}

std::string Hex(const Hash& h) {
  std::string out;
  for (uint8_t b : h) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

uint64_t Waiter::Epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

void Waiter::Wake() {
  {
    std::lock_guard lock(mu_);
    ++epoch_;
  }
  cv_.notify_all();
}

void SystemWaiter::WaitUntil(TimePoint t, uint64_t seen) {
  // Far targets (nothing due) are capped so the system_clock conversion cannot overflow; the
  // reactor simply looks again.
  const TimePoint cap = clock().Now() + std::chrono::hours(1);
  const auto until =
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::min(t, cap));
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [&] { return epoch_ != seen; });
}

void ManualWaiter::WaitUntil(TimePoint t, uint64_t seen) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return epoch_ != seen || clock_.Now() >= t; });
}

void ManualWaiter::Advance(Micros d) {
  clock_.Advance(d);
  Wake();
}

void ManualWaiter::Set(TimePoint t) {
  clock_.Set(t);
  Wake();
}

SlaTimer::SlaTimer(CommandHandler& commands, ViewStore& views,
                   const domain::CalendarCatalog& calendars, Waiter& waiter,
                   SlaTimerOptions options)
    : commands_(commands),
      log_(commands.log()),
      views_(views),
      calendars_(calendars),
      waiter_(waiter),
      options_(options) {
  projection_ =
      std::make_unique<SlaProjection>(commands.workflows(), calendars, views,
                                      [this](int64_t due, uint64_t pos) { OnDue(due, pos); });
}

SlaTimer::~SlaTimer() {
  Stop();
}

void SlaTimer::OnDue(int64_t due, uint64_t position) {
  // The position first: a reactor that sees the lower floor also waits for this position to be
  // committed before it scans, so the entry is there when it looks.
  last_insert_.store(position);
  int64_t floor = floor_.load();
  while (due < floor && !floor_.compare_exchange_weak(floor, due)) {
  }
  if (due < target_.load()) waiter_.Wake();
}

Status SlaTimer::Start() {
  if (thread_.joinable()) return Status::Ok();
  if (runner_ == nullptr) {
    return Status::InvalidArgument("the SLA timer has no projection runner; Bind one first");
  }
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

ConsumerProgress SlaTimer::Progress() const {
  ConsumerProgress p;
  p.position = runner_ != nullptr ? runner_->position() : 0;
  p.health = failure();
  p.counters = {{"recorded", static_cast<double>(appended_.load())},
                {"deduplicated", static_cast<double>(deduplicated_.load())}};
  return p;
}

void SlaTimer::Stop() {
  stop_ = true;
  waiter_.Wake();
  if (thread_.joinable()) thread_.join();
}

Status SlaTimer::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

std::string SlaTimer::IdempotencyKey(const std::string& stream, const std::string& clock,
                                     uint64_t start_position, DueKind kind) {
  std::string key = fmt::format("sla:{}:{}:{}:{}", stream, clock, start_position,
                                kind == DueKind::kWarning ? "warning" : "breached");
  if (key.size() <= kMaxKeyBytes) return key;
  codec::Sha256 h;
  h.Update(key.data(), key.size());
  return "sla:sha256:" + Hex(h.Final());
}

void SlaTimer::Loop() {
  auto lower_floor = [this](int64_t to) {
    int64_t floor = floor_.load();
    while (to < floor && !floor_.compare_exchange_weak(floor, to)) {
    }
  };
  while (!stop_) {
    const uint64_t epoch = waiter_.Epoch();
    target_.store(INT64_MAX);
    // Taken before `need` is read: an insert that lowered the floor before this exchange also
    // stored its position before it, so the wait below covers it; a later one lowers floor_
    // again and wakes this loop.
    const int64_t from = floor_.exchange(INT64_MAX);
    // The whole log as it is now, not only the inserts: a stop appended in time but not folded
    // yet must not read as a clock still running past its deadline.
    const uint64_t need = std::max(last_insert_.load(), log_.LastPosition());
    if (need > runner_->position() && !runner_->WaitFor(need, options_.fold_wait)) {
      lower_floor(from);
      Status f = runner_->failure();
      if (!f.ok()) {
        std::lock_guard lock(mu_);
        failure_ = f;
      }
      if (!f.ok()) waiter_.WaitUntil(TimePoint::max(), epoch);  // until Stop()
      continue;
    }
    const int64_t now = waiter_.clock().Now().time_since_epoch().count();
    std::vector<Due> due;
    int64_t next = INT64_MAX, resume = INT64_MAX;
    if (Status st = Scan(from, now, &due, &next, &resume); !st.ok()) {
      std::lock_guard lock(mu_);
      failure_ = st;
      resume = from;  // look again from where this scan started
    }
    if (!due.empty()) {
      lower_floor(std::min(resume, Fire(due)));
      continue;
    }
    lower_floor(resume);
    target_.store(next);
    if (next != INT64_MAX && next != warmed_) Warm(next, epoch);
    {
      std::lock_guard lock(mu_);
      idle_ = true;
      idle_epoch_ = epoch;
    }
    settled_cv_.notify_all();
    waiter_.WaitUntil(next == INT64_MAX ? TimePoint::max() : At(next), epoch);
    std::lock_guard lock(mu_);
    idle_ = false;
  }
}

Status SlaTimer::Scan(int64_t from, int64_t now, std::vector<Due>* due, int64_t* next,
                      int64_t* resume) {
  // Pages stop at the first entry after `now`, so a quiet index costs one short read.
  constexpr size_t kPage = 256;
  std::string after = from <= 0 ? std::string() : DueKeyBefore(from);
  *next = *resume = INT64_MAX;
  for (;;) {
    auto rows = views_.Scan(kSlaView, kDuePrefix, after, kPage);
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) after = rows->back().key;  // before the keys are moved out below
    for (auto& r : *rows) {
      Due d;
      std::string clock;
      if (!ParseDueKey(r.key, &d.due, &d.stream, &clock) || poisoned_.count(r.key)) continue;
      if (d.due > now) {
        *next = *resume = d.due;
        return Status::Ok();
      }
      if (due->size() >= options_.batch) {
        *resume = d.due;  // the rest of this instant and later ones: the next pass
        return Status::Ok();
      }
      auto entry = DecodeDueValue(r.value);
      if (!entry.ok()) {
        poisoned_.insert(r.key);
        std::lock_guard lock(mu_);
        failure_ = entry.status();
        continue;
      }
      d.entry = std::move(entry).value();
      d.entry.clock = std::move(clock);
      d.key = std::move(r.key);
      due->push_back(std::move(d));
    }
    if (rows->size() < kPage) return Status::Ok();
  }
}

void SlaTimer::Warm(int64_t instant, uint64_t epoch) {
  // The states (and stream versions) the commands of the next instant will decide on, read now
  // while nothing is due: at the instant itself the burst then decides from memory instead of
  // seeking each cold stream in the log, which at a large burst is most of its delay. Reads only;
  // what changes in between is folded in as usual when the command loads the state.
  // The pass that fires the instant reads the same entries: at most a batch, from the instant.
  std::vector<Due> due;
  int64_t next = INT64_MAX, resume = INT64_MAX;
  if (!Scan(instant, instant, &due, &next, &resume).ok()) return;  // again on the next idle pass
  for (const Due& d : due) {
    // The instant has come, something earlier came due, or the timer stops: firing (or stopping)
    // comes first, and the states not loaded yet are read by their commands.
    if (stop_ || waiter_.Epoch() != epoch || waiter_.clock().Now() >= At(instant)) return;
    (void)commands_.Load(d.stream);  // a failure shows when the command is sent
  }
  warmed_ = instant;
}

const BusinessCalendar* SlaTimer::Zone(const std::string& calendar, const std::string& tenant) {
  std::string key = calendar + '\0' + tenant;
  auto it = zones_.find(key);
  if (it == zones_.end()) {
    auto built = calendars_.Build(calendar, tenant);
    it = zones_
             .emplace(key, built.ok() ? std::make_unique<BusinessCalendar>(std::move(built).value())
                                      : nullptr)
             .first;
  }
  return it->second.get();
}

Result<Command> SlaTimer::BuildCommand(Due& d) {
  DueEntry& e = d.entry;
  if (!e.complete) {
    // An entry of the older format: the clock's row says the rest.
    auto stored = views_.Get(kSlaView, StreamKey(d.stream));
    if (!stored.ok()) return stored.status();
    if (!*stored) return Status::NotFound(fmt::format("no clocks row for {}", d.stream));
    auto s = StreamClocks::Decode(**stored);
    if (!s.ok()) return s.status();
    ClockRow* c = s->Find(e.clock);
    if (c == nullptr || NextDue(*c) != std::make_pair(e.kind, d.due)) {
      return Status::NotFound(fmt::format("{} {} is no longer due", d.stream, e.clock));
    }
    e = DueEntryOf(*c, s->tenant, e.kind);
  }
  const BusinessCalendar* zone = Zone(e.calendar, e.tenant);
  auto when = [zone](int64_t t) { return zone ? zone->FormatLocal(At(t)) : FormatTime(At(t)); };
  // Elapsed at the due instant, not at the append: the same data on every attempt, which the
  // idempotency record requires, and the figure the SLA is judged by.
  Command cmd;
  cmd.stream = d.stream;
  cmd.name = e.kind == DueKind::kWarning ? kRecordSlaWarning : kRecordSlaBreach;
  cmd.payload = {{"clock", e.clock},
                 {"target", e.target},
                 {"calendar", e.calendar},
                 {"deadline", when(e.deadline)},
                 {"started_at", when(e.started_at)},
                 {"start_position", e.start_position},
                 {"elapsed_seconds", e.elapsed / 1'000'000}};
  if (e.kind == DueKind::kWarning) cmd.payload["warning_at"] = when(e.warning_at);
  cmd.idempotency_key = IdempotencyKey(d.stream, e.clock, e.start_position, e.kind);
  // At the stream's version as the log has it now, which the views have folded (Loop waited for
  // the head): an event still being written (a stop stamped before the deadline) makes this a
  // Conflict, and the next pass judges the clock with it.
  auto version = log_.StreamVersion(d.stream);
  if (!version.ok()) return version.status();
  cmd.expected_version = *version;
  return cmd;
}

int64_t SlaTimer::Fire(std::vector<Due>& due) {
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
    uint64_t max_position = 0;
  } latch;
  std::vector<Result<CommandOutcome>> results(due.size(), Status::Shutdown("not sent"));
  latch.left = due.size();
  auto finish = [&latch] {
    std::lock_guard lock(latch.mu);
    if (--latch.left == 0) latch.cv.notify_all();
  };
  for (size_t i = 0; i < due.size(); ++i) {
    auto cmd = BuildCommand(due[i]);
    if (!cmd.ok()) {
      results[i] = cmd.status();
      finish();
      continue;
    }
    // Everything in flight at once: the writer takes what is queued as one group commit, so a
    // burst of breaches costs a few syncs, not one each.
    commands_.HandleAsync(*cmd, Actor::System("sla-timer", due[i].entry.tenant),
                          [&results, &latch, &finish, i](Result<CommandOutcome> r) {
                            {
                              std::lock_guard lock(latch.mu);
                              if (r.ok() && r->accepted()) {
                                latch.max_position =
                                    std::max(latch.max_position, r->append.last_position);
                              }
                            }
                            results[i] = std::move(r);
                            finish();
                          });
  }
  {
    std::unique_lock lock(latch.mu);
    latch.cv.wait(lock, [&] { return latch.left == 0; });
  }
  uint64_t wait_for = latch.max_position;
  int64_t retry = INT64_MAX;
  for (size_t i = 0; i < due.size(); ++i) {
    const auto& r = results[i];
    if (r.ok() && r->accepted()) {
      (r->append.deduplicated ? deduplicated_ : appended_).fetch_add(1);
      continue;
    }
    if (r.ok()) {
      // The workflow refused the record: a definition that no longer fits its clocks. Not
      // retried by this process; the failure says why.
      poisoned_.insert(due[i].key);
      std::lock_guard lock(mu_);
      failure_ = Status::InvalidArgument(r->rejection->message);
      continue;
    }
    // The key was used with other data: the log holds this run's event already (written before
    // a restart from an older view); the projection folds it in order.
    if (r.status().Is(Status::SubCode::kIdempotencyKeyReused)) {
      deduplicated_.fetch_add(1);
      wait_for = std::max(wait_for, log_.LastPosition());
      continue;
    }
    // Moved on between the scan and the append (stopped, paused, folded): the next pass sees it.
    if (r.status().IsNotFound() || r.status().IsConflict()) {
      retry = std::min(retry, due[i].due);
      continue;
    }
    // Refused for good, or the log is failing: not retried by this process (no busy loop on a
    // broken disk); the next start tries again.
    poisoned_.insert(due[i].key);
    std::lock_guard lock(mu_);
    failure_ = r.status();
  }
  if (wait_for > 0 && !runner_->WaitFor(wait_for, options_.fold_wait)) {
    std::lock_guard lock(mu_);
    failure_ = Status::Unavailable(
        fmt::format("the sla_timer projection did not reach position {} within {} ms", wait_for,
                    options_.fold_wait.count()));
  }
  return retry;
}

bool SlaTimer::WaitSettled(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  if (runner_ == nullptr || !runner_->WaitFor(log_.LastPosition(), timeout)) return false;
  std::unique_lock lock(mu_);
  return settled_cv_.wait_until(lock, until, [&] {
    return idle_ && idle_epoch_ == waiter_.Epoch() && runner_->position() >= log_.LastPosition();
  });
}

}  // namespace procedo::projections
