// The command handler's states: replayed from the log (after a snapshot when one fits), kept in
// the cache while they are the log's current version, and advanced in place by the events their
// own commands append.
#include <atomic>

#include "engine/workflow/command_handler.h"
#include "engine/workflow/command_handler_detail.h"

namespace procedo {

using command_detail::UnknownKind;

Result<StatePtr> CommandHandler::Replay(const WorkflowDefinition& def, const std::string& stream) {
  WorkflowState state;
  state.stream = stream;
  if (snapshots_ != nullptr) {
    auto snap = snapshots_->Latest(stream);
    // A snapshot folded by another version of the definition may differ from what this one
    // would fold; replaying is always right, so such a snapshot is skipped.
    if (snap.ok() && snap->fingerprint == def.fingerprint) {
      state = std::move(snap->state);
      snapshots_used_.fetch_add(1, std::memory_order_relaxed);
    } else if (!snap.ok() && !snap.status().IsNotFound()) {
      return snap.status();
    }
  }
  constexpr size_t kBatch = 512;
  while (true) {
    auto events = log_.ReadStream(stream, state.version + 1, Direction::kForward, kBatch);
    if (!events.ok()) return events.status();
    for (const auto& e : events.value()) {
      if (Status s = ApplyEvent(def, state, e); !s.ok()) return s;
    }
    if (events->size() < kBatch) break;
  }
  // Not const: Remember may advance it in place once nobody else holds it.
  return StatePtr(std::make_shared<WorkflowState>(std::move(state)));
}

std::shared_ptr<WorkflowState> CommandHandler::TakeForUpdate(StatePtr state) {
  // Copying a long stream's state costs more than deciding or folding the few events it is
  // behind; when no other thread holds it (the cache no longer hands it out), it becomes the new
  // one in place. Every state comes from make_shared<WorkflowState>, so casting away const is
  // sound.
  cache_.EraseIfCurrent(state);
  if (state.use_count() == 1) {
    // Pairs with the release in other holders' reference drops: their reads happen before ours.
    std::atomic_thread_fence(std::memory_order_acquire);
    return std::const_pointer_cast<WorkflowState>(std::move(state));
  }
  return std::make_shared<WorkflowState>(*state);
}

Result<StatePtr> CommandHandler::Load(const std::string& stream) {
  const WorkflowDefinition* def = workflows_.ForStream(stream);
  if (def == nullptr) return UnknownKind(stream);
  if (StatePtr cached = cache_.Get(stream)) {
    // Commands run asynchronously (HandleAsync) and operators' `procedo log append` move a stream
    // without passing through this cache: a cached state is used only while it is the log's
    // current version, else the new events are folded in. One hash lookup; a real race between
    // two deciders is still a conflict at append.
    auto current = log_.StreamVersion(stream);
    if (!current.ok()) return current.status();
    if (*current == cached->version) return cached;
    std::optional<Appended> mine;
    {
      std::lock_guard lock(appended_mu_);
      if (auto it = appended_.find(stream); it != appended_.end()) {
        if (it->second.first_version == cached->version + 1 &&
            it->second.first_version + it->second.events.size() - 1 == *current) {
          mine = std::move(it->second);
        }
        appended_.erase(it);
      }
    }
    if (mine) {
      std::shared_ptr<WorkflowState> next = TakeForUpdate(std::move(cached));
      for (size_t i = 0; i < mine->events.size(); ++i) {
        Apply(*def, *next, stream, mine->first_version + i, mine->tenant, mine->events[i].type,
              std::move(mine->events[i].data));
      }
      cache_.Put(next);
      return StatePtr(next);
    }
    auto newer = log_.ReadStream(stream, cached->version + 1, Direction::kForward, SIZE_MAX);
    if (newer.ok() && !newer->empty() && newer->front().version == cached->version + 1) {
      std::shared_ptr<WorkflowState> next = TakeForUpdate(std::move(cached));
      for (const auto& e : *newer) {
        if (Status st = ApplyEvent(*def, *next, e); !st.ok()) return st;
      }
      cache_.Put(next);
      return StatePtr(next);
    }
    cache_.Erase(stream);
  }
  auto loaded = Replay(*def, stream);
  if (loaded.ok() && loaded.value()->exists()) cache_.Put(loaded.value());
  return loaded;
}

void CommandHandler::Remember(const WorkflowDefinition& def, StatePtr before,
                              std::vector<DecidedEvent>& events, const AppendResult& result) {
  const uint64_t before_version = before->version;
  std::shared_ptr<WorkflowState> next = TakeForUpdate(std::move(before));
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& stored = *result.events[i];
    Apply(def, *next, stored.stream, stored.version, stored.tenant, events[i].type,
          std::move(events[i].data));
  }
  cache_.Put(next);
  uint64_t n = options_.snapshot_every;
  if (snapshots_ != nullptr && n > 0 && next->version / n > before_version / n) {
    // A failed snapshot costs only a longer replay later; the command has succeeded.
    if (snapshots_->Put(Snapshot{def.fingerprint, *next}).ok()) {
      snapshots_written_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

}  // namespace procedo
