#include "projections/views/knowledge_base.h"

#include <fmt/format.h>

namespace procedo::projections {

using nlohmann::json;

namespace {

constexpr const char* kArchived = "ticket.archived";
// A commit syncs the index; with nothing archived in between, the checkpoint moves only this
// often (a restart then refolds at most this many positions, which add nothing).
constexpr uint64_t kIdleCommitEvery = 10'000;

std::string Str(const json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<KbDocument> DocumentOf(const std::vector<Event>& stream) {
  if (stream.empty() || stream.back().type != kArchived) return std::nullopt;
  KbDocument doc;
  doc.stream = stream.back().stream;
  doc.tenant = stream.back().tenant;
  doc.archived_at = FormatTime(stream.back().time);
  for (const Event& e : stream) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    if (e.type == "ticket.opened") {
      // Only the words of the problem: the contact, the description and the e-mail it came
      // in are the requester's and stay out of the index.
      doc.number = Str(d, "number");
      doc.subject = ScrubPersonalData(Str(d, "subject"));
      doc.category = ScrubPersonalData(Str(d, "category"));
    } else if (e.type == "ticket.resolved") {
      doc.solution = ScrubPersonalData(Str(d, "solution"));  // a reopened ticket: the last one
    } else if (e.type == "ticket.closed") {
      doc.closed_at = Str(d, "closed_at");
    } else if (e.type == kArchived) {
      if (auto k = d.find("keywords"); k != d.end() && k->is_array()) {
        for (const auto& w : *k) {
          if (w.is_string()) doc.keywords.push_back(ScrubPersonalData(w.get<std::string>()));
        }
      }
    }
  }
  return doc;
}

std::string SimilarityText(const json& opened_data) {
  std::string text = Str(opened_data, "subject");
  for (const char* k : {"category", "description"}) {
    const std::string v = Str(opened_data, k);
    if (!v.empty()) text += "\n" + v;
  }
  return text;
}

KnowledgeBase::KnowledgeBase(const LogStore& log, std::string dir, std::unique_ptr<KbIndex> index,
                             uint64_t checkpoint)
    : log_(log), dir_(std::move(dir)), index_(std::move(index)), committed_(checkpoint) {
  position_.store(checkpoint);
}

KnowledgeBase::~KnowledgeBase() {
  Stop();
}

Result<std::unique_ptr<KnowledgeBase>> KnowledgeBase::Open(const LogStore& log, std::string dir) {
  std::unique_ptr<KbIndex> index;
  std::optional<uint64_t> checkpoint;
  if (auto opened = KbIndex::Open(dir); opened.ok()) {
    index = std::move(opened).value();
    auto c = index->Checkpoint();
    auto n = index->DocumentCount();
    if (c.ok() && n.ok() && (c->has_value() || *n == 0) && c->value_or(0) <= log.LastPosition()) {
      checkpoint = c->value_or(0);
    }
  } else if (opened.status().code() == Status::Code::kUnavailable) {
    return opened.status();  // held by another process: nothing to repair
  }
  if (!checkpoint) {
    // Unreadable, without a checkpoint, or folded from a longer log: it is only a view, so it
    // is dropped and folded again from the log.
    index.reset();
    if (Status s = KbIndex::Remove(dir); !s.ok()) return s;
    auto fresh = KbIndex::Open(dir);
    if (!fresh.ok()) return fresh.status();
    index = std::move(fresh).value();
    checkpoint = 0;
  }
  return std::unique_ptr<KnowledgeBase>(
      new KnowledgeBase(log, std::move(dir), std::move(index), *checkpoint));
}

Status KnowledgeBase::Apply(const std::vector<EventPtr>& events) {
  if (events.empty()) return Status::Ok();
  const uint64_t last = events.back()->position;
  {
    std::lock_guard lock(index_mu_);
    bool added = false;
    for (const auto& e : events) {
      if (e->position <= position() || e->type != kArchived) continue;
      auto stream = log_.ReadStream(e->stream, 1, Direction::kForward, e->version);
      if (!stream.ok()) return stream.status();
      if (auto doc = DocumentOf(*stream)) {
        if (Status s = index_->Put(*doc); !s.ok()) return s;
        added = true;
      }
    }
    if (added || last - committed_ >= kIdleCommitEvery) {
      if (Status s = index_->Commit(last); !s.ok()) return s;
      committed_ = last;
    }
  }
  {
    std::lock_guard lock(mu_);
    position_.store(std::max(position(), last), std::memory_order_release);
  }
  advanced_.notify_all();
  return Status::Ok();
}

Status KnowledgeBase::CatchUp() {
  if (Status s = ReadToHead(log_, position() + 1,
                            [this](const std::vector<EventPtr>& page) { return Apply(page); });
      !s.ok()) {
    return s;
  }
  std::lock_guard lock(index_mu_);
  if (committed_ == position()) return Status::Ok();
  if (Status s = index_->Commit(position()); !s.ok()) return s;
  committed_ = position();
  return Status::Ok();
}

Status KnowledgeBase::Start() {
  if (thread_.joinable()) return Status::Ok();
  if (Status s = CatchUp(); !s.ok()) return s;
  stop_ = false;
  sub_ = log_.Subscribe(position() + 1);
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void KnowledgeBase::Stop() {
  stop_ = true;
  if (sub_) sub_->Cancel();
  if (thread_.joinable()) thread_.join();
  sub_.reset();
}

void KnowledgeBase::Loop() {
  while (!stop_) {
    auto events = sub_->Next(1024, std::chrono::milliseconds(500));
    Status s = events.ok() ? Apply(*events) : events.status();
    if (!s.ok()) {
      std::lock_guard lock(mu_);
      if (s.code() != Status::Code::kShutdown) failure_ = s;
      advanced_.notify_all();
      return;
    }
  }
}

ConsumerProgress KnowledgeBase::Progress() const {
  ConsumerProgress p;
  p.position = position();
  // A failing index only leaves the help desk without suggestions: commands and every other
  // view go on, so the server stays ready (the failure shows in /readyz and /metrics).
  p.essential = false;
  std::lock_guard lock(mu_);
  p.health = failure_;
  return p;
}

bool KnowledgeBase::WaitFor(uint64_t target, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return advanced_.wait_for(lock, timeout, [&] {
    return position() >= target || !failure_.ok();
  }) && position() >= target;
}

Result<std::vector<KbHit>> KnowledgeBase::Search(const KbQuery& q) const {
  std::lock_guard lock(index_mu_);
  return index_->Search(q);
}

Result<uint64_t> KnowledgeBase::DocumentCount() const {
  std::lock_guard lock(index_mu_);
  return index_->DocumentCount();
}

}  // namespace procedo::projections
