// The command path, the one write path of the product: load the stream's state (cache,
// snapshot, log), decide, run allocators, and emit (engine/workflow/emitter.h: every event
// checked against its schema, stamped, appended with the expected version). What the system
// causes itself (an SLA breach, a delivery record, a login) is a command too, run by a system
// actor (Actor::System). A conflict goes back to the caller, who decides again on fresh state;
// nothing here retries a command blindly (a counter taken by a concurrent command is allocated
// again: the command's own decision still holds).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/log/log_store.h"
#include "engine/workflow/decide.h"
#include "engine/workflow/emitter.h"
#include "engine/workflow/state_cache.h"
#include "engine/workflow/workflow.h"

namespace procedo {

struct CommandHandlerOptions {
  size_t cache_entries = 100'000;
  // A snapshot is stored whenever a command takes a stream past a multiple of this many events.
  uint64_t snapshot_every = 64;
  // How far back a retry with an idempotency key looks for the events of its first attempt.
  size_t idempotency_lookback = 256;
  const Clock* clock = &SystemClock::Instance();
  // Seals the personal fields of events (EventEmitter); null: kept as given.
  crypto::PersonalData* personal = nullptr;
};

struct CommandOutcome {
  // Set when decide refused; nothing was appended.
  std::optional<Rejection> rejection;
  // Otherwise what was appended (or, for a retry, what the first attempt appended). A decision
  // with no events appends nothing: no events, positions 0, the stream's version as it was.
  AppendResult append;
  nlohmann::json reply = nullptr;  // a decider's reply (DeciderOutcome::reply)
  bool accepted() const { return !rejection.has_value(); }
};

class CommandHandler {
 public:
  // Everything passed must outlive the handler. `snapshots` may be null (no snapshots).
  CommandHandler(LogStore& log, const WorkflowSet& workflows, const EventSchemas& event_schemas,
                 SnapshotStore* snapshots, CommandHandlerOptions options = {});
  // Waits for the appends it still has in flight: their answers come back through it.
  ~CommandHandler();

  // Errors: InvalidArgument (no workflow for the stream: kUnknownStreamKind; a bad or reused
  // idempotency key: kIdempotencyKeyReused), Conflict (the stream moved on between load and
  // append; decide again), Corruption with kDefinitionBug (an emitted event fails its schema: a
  // bug in a definition or hook, reported and never appended), IoError.
  Result<CommandOutcome> Handle(const Command& command, const Actor& actor);
  // The same for reactors that keep many commands in flight (the SLA timer, the notifier's
  // records): decides on the calling thread, then `done` runs on the log's writer thread once
  // the append is durable (at once for a rejection or an error before the append). No allocator
  // retry and no lookup of a prior attempt: a reused key comes back as kIdempotencyKeyReused.
  void HandleAsync(const Command& command, const Actor& actor,
                   std::function<void(Result<CommandOutcome>)> done);

  // Many commands of one stream, for callers that hold a list of them (the exchange import's
  // movements of one account): the stream is loaded once and each command is decided on the
  // state the ones before it leave, as if each had been sent when the last was answered. Each
  // accepted command is still its own append (its idempotency key, its expected version), so a
  // command is all or nothing and a retry finds its first attempt; the appends are enqueued
  // together and share a group commit. `done` runs once, with one outcome per command in order,
  // on the log's writer thread (on this one when nothing is appended). Commands of another
  // stream, or whose events take numbers (allocators), are answered InvalidArgument: send them
  // through Handle. Once an append fails, those after it fail too (their stream moved on):
  // decide them again through Handle.
  void HandleBatchAsync(const std::vector<Command>& commands, const Actor& actor,
                        std::function<void(std::vector<Result<CommandOutcome>>)> done);

  // The stream's current state as this handler sees it (cache, snapshot, then the log).
  Result<StatePtr> Load(const std::string& stream);

  const StateCache& cache() const { return cache_; }
  const LogStore& log() const { return log_; }
  const WorkflowSet& workflows() const { return workflows_; }
  uint64_t snapshots_written() const { return snapshots_written_.load(); }
  uint64_t snapshots_used() const { return snapshots_used_.load(); }

 private:
  Result<StatePtr> Replay(const WorkflowDefinition& def, const std::string& stream);
  // The outcome of the first attempt of a command with this key, when this stream has it.
  std::optional<Result<CommandOutcome>> FindPrior(const WorkflowDefinition& def,
                                                  const Command& command, const std::string& key);
  // The state to fold forward: `state` itself once out of the cache when no one else holds it,
  // else a copy.
  std::shared_ptr<WorkflowState> TakeForUpdate(StatePtr state);
  void Remember(const WorkflowDefinition& def, StatePtr before, std::vector<DecidedEvent>& events,
                const AppendResult& result);
  // Checks and loads: the definition, the key, the state at the expected version. Sets
  // `early` when the command is answered without deciding (a conflict, or a prior attempt).
  struct Prepared {
    const WorkflowDefinition* def = nullptr;
    StatePtr state;
    TimePoint now{};
  };
  Result<Prepared> Prepare(const Command& command, std::optional<Result<CommandOutcome>>* early);
  EmitHeader Header(const Command& command, const Actor& actor, const WorkflowState& state) const;
  // The same with the actor's envelope text made once for many commands.
  EmitHeader Header(const Command& command, std::string actor_json, const std::string& actor_tenant,
                    const WorkflowState& state) const;
  Status Allocate(const WorkflowDefinition& def, const DecideContext& ctx,
                  std::vector<DecidedEvent>& events, std::vector<AllocatedEvent>* also);
  // Allocates and enqueues the append of a command whose events have allocators, under
  // counters_mu_, counting the counters it advances as in flight until the log answers: the
  // next command allocates past them, and reaches the log's queue after this one.
  void AllocateAndAppend(const WorkflowDefinition& def, const DecideContext& ctx,
                         const EmitHeader& header, std::vector<DecidedEvent>& events,
                         std::function<void(Result<AppendResult>)> done);

  LogStore& log_;
  EventEmitter emitter_;
  // Opens a sealed value of a state for a decision; empty without personal data sealed.
  OpenPersonalValue open_personal_;
  const OpenPersonalValue* opener() const { return open_personal_ ? &open_personal_ : nullptr; }
  const WorkflowSet& workflows_;
  const EventSchemas& event_schemas_;
  SnapshotStore* snapshots_;
  CommandHandlerOptions options_;
  StateCache cache_;
  std::atomic<uint64_t> snapshots_written_{0}, snapshots_used_{0};
  // Counter streams with appends in flight: the version the last of them gives the stream, and
  // how many are in flight. Recursive: the log answers a request it refuses at once, on the
  // enqueuing thread, which holds the lock.
  std::recursive_mutex counters_mu_;
  std::condition_variable_any counters_done_;  // counters_in_flight_ became empty
  std::unordered_map<std::string, std::pair<uint64_t, uint32_t>> counters_in_flight_;
  // What the asynchronous path appended, by stream, kept until the stream's next Load folds it
  // from here instead of reading it back from the log and parsing it again. Used only when its
  // versions follow the cached state's up to the log's; bounded by dropping all past kAppended.
  struct Appended {
    uint64_t first_version = 0;
    std::string tenant;
    std::vector<DecidedEvent> events;
  };
  static constexpr size_t kAppended = 4096;
  std::mutex appended_mu_;
  std::unordered_map<std::string, Appended> appended_;
};

}  // namespace procedo
