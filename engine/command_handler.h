// The command path: load the stream's state (cache, snapshot, log), decide, run allocators,
// check every event against its schema, append with the expected version. A conflict goes back
// to the caller, who decides again on fresh state; nothing here retries a command blindly.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/decide.h"
#include "engine/log_store.h"
#include "engine/state_cache.h"
#include "engine/workflow.h"

namespace procedo {

struct CommandHandlerOptions {
  size_t cache_entries = 100'000;
  // A snapshot is stored whenever a command takes a stream past a multiple of this many events.
  uint64_t snapshot_every = 64;
  // How far back a retry with an idempotency key looks for the events of its first attempt.
  size_t idempotency_lookback = 256;
  const Clock* clock = &SystemClock::Instance();
};

struct CommandOutcome {
  // Set when decide refused; nothing was appended.
  std::optional<Rejection> rejection;
  // Otherwise what was appended (or, for a retry, what the first attempt appended).
  AppendResult append;
  bool accepted() const { return !rejection.has_value(); }
};

class CommandHandler {
 public:
  // Everything passed must outlive the handler. `snapshots` may be null (no snapshots).
  CommandHandler(LogStore& log, const WorkflowSet& workflows, const EventSchemas& event_schemas,
                 SnapshotStore* snapshots, CommandHandlerOptions options = {});

  // Errors: InvalidArgument (no workflow for the stream, bad idempotency key), Conflict (the
  // stream moved on between load and append; decide again), Corruption (an emitted event fails
  // its schema: a bug in a definition or effect, reported and never appended), IoError.
  Result<CommandOutcome> Handle(const Command& command, const Actor& actor);

  // The stream's current state as this handler sees it (cache, snapshot, then the log).
  Result<StatePtr> Load(const std::string& stream);

  const StateCache& cache() const { return cache_; }
  uint64_t snapshots_written() const { return snapshots_written_.load(); }
  uint64_t snapshots_used() const { return snapshots_used_.load(); }

 private:
  Result<StatePtr> Replay(const WorkflowDefinition& def, const std::string& stream);
  // The outcome of the first attempt of a command with this key, when this stream has it.
  std::optional<Result<CommandOutcome>> FindPrior(const WorkflowDefinition& def,
                                                  const Command& command, const std::string& key);
  void Remember(const WorkflowDefinition& def, StatePtr before,
                std::vector<DecidedEvent>& events, const AppendResult& result);

  LogStore& log_;
  const WorkflowSet& workflows_;
  const EventSchemas& event_schemas_;
  SnapshotStore* snapshots_;
  CommandHandlerOptions options_;
  StateCache cache_;
  std::atomic<uint64_t> snapshots_written_{0}, snapshots_used_{0};
};

}  // namespace procedo
