#include "projections/reactors/waiting_list.h"

#include <fmt/format.h>

#include <algorithm>

#include "projections/views/rankings.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

constexpr size_t kPage = 1024;
constexpr size_t kRankingPage = 256;
constexpr int kConflictRetries = 3;

}  // namespace

WaitingListReactor::WaitingListReactor(CommandHandler& commands, ViewStore& views,
                                       ProjectionRunner& runner,
                                       std::shared_ptr<const domain::ServiceCatalogue> services,
                                       WaitingListOptions options)
    : commands_(commands),
      log_(commands.log()),
      views_(views),
      runner_(runner),
      services_(std::move(services)),
      options_(options) {}

WaitingListReactor::~WaitingListReactor() {
  Stop();
}

std::string WaitingListReactor::IdempotencyKey(const Event& release) {
  std::string key = fmt::format("waitlist:{}:{}", release.stream, release.version);
  // The handler takes keys of up to 128 characters; the event's id is as unique and as stable.
  if (key.size() > 128) key = "waitlist:" + UuidToString(release.id);
  return key;
}

Status WaitingListReactor::Start() {
  stop_.store(false);
  position_.store(views_.Checkpoint(kWaitingListView));
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void WaitingListReactor::Stop() {
  stop_.store(true);
  {
    std::lock_guard lock(mu_);
    if (sub_) sub_->Cancel();
  }
  advanced_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WaitingListReactor::Loop() {
  while (!stop_.load()) {
    auto r = Pump(std::chrono::milliseconds(200));
    if (r.ok()) continue;
    if (r.status().IsShutdown()) return;
    // The release is tried again; the pause keeps a failing store from being hammered.
    std::unique_lock lock(mu_);
    advanced_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
  }
}

Result<size_t> WaitingListReactor::Pump(std::chrono::milliseconds wait) {
  if (!sub_) {
    uint64_t from = views_.Checkpoint(kWaitingListView);
    // A log shorter than the checkpoint (restored from an older copy): every release is looked
    // at again; the idempotency keys and the place counters keep each admission single.
    if (from > log_.LastPosition()) from = 0;
    position_.store(from);
    std::lock_guard lock(mu_);
    if (stop_.load()) return Status::Shutdown("the waiting list is stopping");
    sub_ = log_.Subscribe(from + 1);
  }
  auto events = sub_->Next(kPage, wait);
  if (!events.ok()) return events.status();
  size_t handled = 0;
  uint64_t done = position_.load();
  Status failed;
  for (const auto& e : *events) {
    if (e->type == "place.released") {
      failed = HandleRelease(*e);
      if (!failed.ok()) break;
      ++handled;
    }
    done = e->position;
  }
  if (Status s = Commit(done); !s.ok()) failed = s;
  {
    std::lock_guard lock(mu_);
    health_ = failed;
    // The subscription has read past the release that failed: the next pass starts again from
    // the checkpoint, which is just before it.
    if (!failed.ok()) sub_.reset();
  }
  advanced_.notify_all();
  if (!failed.ok()) return failed;
  return handled;
}

Status WaitingListReactor::Commit(uint64_t position) {
  if (position == position_.load()) return Status::Ok();
  auto batch = views_.NewBatch();
  batch->SetCheckpoint(kWaitingListView, position);
  if (Status s = views_.Commit(*batch); !s.ok()) return s;
  position_.store(position);
  return Status::Ok();
}

Status WaitingListReactor::HandleRelease(const Event& release) {
  const json data = json::parse(release.data, nullptr, false);
  if (!data.is_object()) return Status::Corruption("place.released without a JSON object");
  const std::string service_id = data.value("service", "");
  const std::string site = data.value("site", "");
  const domain::TenantServices* tenant = services_->ForTenant(release.tenant);
  const domain::Service* service = tenant == nullptr ? nullptr : tenant->Find(service_id);
  if (service == nullptr) {
    Count("not_in_catalogue");
    return Status::Ok();
  }
  if (!service->ranking.automatic_waiting_list) {
    Count("manual");
    return Status::Ok();
  }
  const uint64_t target = std::max(release.position, own_);
  if (!runner_.WaitFor(target, options_.view_wait)) {
    return Status::Unavailable(fmt::format(
        "the rankings view has not reached position {} (it is at {}); the release of {} v{} "
        "waits for it",
        target, runner_.position(), release.stream, release.version));
  }

  Command command;
  command.name = "admit_to_service";
  command.payload = {{"service", service_id},
                     {"released_by",
                      {{"stream", release.stream},
                       {"version", release.version},
                       {"enrolment", data.value("released_by", "")}}}};
  command.idempotency_key = IdempotencyKey(release);
  command.correlation_id = release.correlation_id;
  const Actor actor = Actor::System(kActor, release.tenant);

  const std::string prefix = RankingsProjection::RankingPrefix(release.tenant, service_id, site);
  std::string after;
  size_t tried = 0;
  while (tried < options_.max_candidates) {
    auto rows = views_.Scan(RankingsProjection::kName, prefix, after, kRankingPage);
    if (!rows.ok()) return rows.status();
    for (const auto& row : *rows) {
      const json r = json::parse(row.value, nullptr, false);
      if (!r.is_object() || r.value("outcome", "") != "waiting") continue;
      if (++tried > options_.max_candidates) break;
      command.stream = r.value("enrolment", "");
      Result<CommandOutcome> outcome = Status::Unavailable("not sent");
      for (int attempt = 0; attempt <= kConflictRetries; ++attempt) {
        outcome = commands_.Handle(command, actor);
        if (outcome.ok() || !outcome.status().IsConflict()) break;
      }
      if (outcome.ok() && outcome->accepted()) {
        own_ = std::max(own_, outcome->append.last_position);
        Count(outcome->append.deduplicated ? "deduplicated" : "admitted");
        return Status::Ok();
      }
      if (!outcome.ok()) {
        const Status& s = outcome.status();
        // Every place is taken (another admission got there first): nothing to record.
        if (s.Is(Status::SubCode::kNoCapacity)) {
          Count("no_place");
          return Status::Ok();
        }
        // An earlier run admitted someone for this release, and the list has moved on since.
        if (s.Is(Status::SubCode::kIdempotencyKeyReused)) {
          Count("deduplicated");
          return Status::Ok();
        }
        if (!s.IsInvalidArgument()) return s;
      }
      // This application may not be admitted for a reason of its own: the next one may be.
      Count("refused");
    }
    if (rows->size() < kRankingPage) break;
    after = rows->back().key;
  }
  Count(tried == 0 ? "nobody_waiting" : "none_admitted");
  return Status::Ok();
}

bool WaitingListReactor::WaitSettled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return advanced_.wait_for(
      lock, timeout, [this] { return position_.load() >= log_.LastPosition() && health_.ok(); });
}

void WaitingListReactor::Count(const std::string& name) {
  std::lock_guard lock(mu_);
  ++counters_[name];
}

uint64_t WaitingListReactor::Counter(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

ConsumerProgress WaitingListReactor::Progress() const {
  ConsumerProgress p;
  p.position = position_.load();
  // A list that does not move up leaves the operators to admit by hand; commands go on.
  p.essential = false;
  std::lock_guard lock(mu_);
  p.health = health_;
  for (const auto& [name, n] : counters_) p.counters.emplace_back(name, static_cast<double>(n));
  return p;
}

}  // namespace procedo::projections
