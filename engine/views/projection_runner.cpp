#include <fmt/format.h>

#include "engine/views/projection.h"

namespace procedo {

ProjectionRunner::ProjectionRunner(LogStore& log, ViewStore& views,
                                   std::vector<Projection*> projections)
    : log_(log), views_(views), projections_(std::move(projections)) {
  uint64_t low = UINT64_MAX;
  for (auto* p : projections_) {
    checkpoints_.push_back(views_.Checkpoint(p->name()));
    low = std::min(low, checkpoints_.back());
  }
  position_.store(projections_.empty() ? log_.LastPosition() : low);
}

ProjectionRunner::~ProjectionRunner() {
  Stop();
}

Status ProjectionRunner::ApplyBatch(const std::vector<EventPtr>& events) {
  if (events.empty()) return Status::Ok();
  auto batch = views_.NewBatch();
  // Event by event, every projection in turn: the projections of one event then share its
  // parsed data (one parse per event, not one per projection). Each writes only its own rows,
  // so the order across projections changes nothing they fold.
  std::vector<ViewWriter*> writers(projections_.size(), nullptr);
  for (const auto& e : events) {
    for (size_t i = 0; i < projections_.size(); ++i) {
      if (e->position <= checkpoints_[i]) continue;  // this projection has it already
      Projection* p = projections_[i];
      if (!writers[i]) writers[i] = &batch->For(p->name());
      if (Status s = p->Apply(*e, *writers[i]); !s.ok()) {
        return Status(
            Status::Corruption(fmt::format("projection {} failed on position {} ({}): "
                                           "fix the projection, then `procedo rebuild {}`",
                                           p->name(), e->position, s.message(), p->name())));
      }
    }
  }
  for (size_t i = 0; i < projections_.size(); ++i) {
    if (writers[i]) batch->SetCheckpoint(projections_[i]->name(), events.back()->position);
  }
  if (Status s = views_.Commit(*batch); !s.ok()) return s;
  uint64_t low = UINT64_MAX;
  for (auto& c : checkpoints_) {
    c = std::max(c, events.back()->position);
    low = std::min(low, c);
  }
  {
    std::lock_guard lock(mu_);
    position_.store(projections_.empty() ? events.back()->position : low,
                    std::memory_order_release);
  }
  advanced_.notify_all();
  return Status::Ok();
}

Status ProjectionRunner::CatchUp(const std::function<void(uint64_t, uint64_t)>& progress) {
  const uint64_t head = log_.LastPosition();
  return ReadToHead(log_, position() + 1, [&](const std::vector<EventPtr>& page) {
    if (Status s = ApplyBatch(page); !s.ok()) return s;
    if (progress) progress(page.back()->position, head);
    return Status::Ok();
  });
}

Status ProjectionRunner::Start() {
  if (thread_.joinable()) return Status::Ok();
  // Whatever the log holds now is applied before the thread follows it live: a server answers
  // no query from views that are not caught up with what was there at its start.
  if (Status s = CatchUp(); !s.ok()) return s;
  stop_ = false;
  sub_ = log_.Subscribe(position() + 1);
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

ConsumerProgress ProjectionRunner::Progress() const {
  ConsumerProgress p;
  p.position = position();
  p.health = failure();
  return p;
}

void ProjectionRunner::Stop() {
  stop_ = true;
  if (sub_) sub_->Cancel();
  if (thread_.joinable()) thread_.join();
  sub_.reset();
}

void ProjectionRunner::Loop() {
  while (!stop_) {
    auto events = sub_->Next(1024, std::chrono::milliseconds(500));
    if (!events.ok()) {
      if (events.status().code() != Status::Code::kShutdown) {
        std::lock_guard lock(mu_);
        failure_ = events.status();
      }
      return;
    }
    if (Status s = ApplyBatch(*events); !s.ok()) {
      std::lock_guard lock(mu_);
      failure_ = s;
      advanced_.notify_all();
      return;
    }
  }
}

bool ProjectionRunner::WaitFor(uint64_t target, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return advanced_.wait_for(lock, timeout, [&] {
    return position() >= target || !failure_.ok();
  }) && position() >= target;
}

std::vector<ProjectionStatus> ProjectionRunner::Statuses() const {
  std::vector<ProjectionStatus> out;
  for (auto* p : projections_) out.push_back({p->name(), views_.Checkpoint(p->name())});
  return out;
}

Status ProjectionRunner::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

}  // namespace procedo
