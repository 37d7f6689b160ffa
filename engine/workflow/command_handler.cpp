#include "engine/workflow/command_handler.h"

#include <fmt/format.h>

#include <algorithm>
#include <future>

#include "engine/crypto/personal.h"
#include "engine/workflow/command_handler_detail.h"

namespace procedo {

CommandHandler::CommandHandler(LogStore& log, const WorkflowSet& workflows,
                               const EventSchemas& event_schemas, SnapshotStore* snapshots,
                               CommandHandlerOptions options)
    : log_(log),
      emitter_(log, event_schemas, options.personal, *options.clock),
      workflows_(workflows),
      event_schemas_(event_schemas),
      snapshots_(snapshots),
      options_(options),
      cache_(options.cache_entries) {
  if (options.personal == nullptr) return;
  open_personal_ = [personal = options.personal](std::string_view sealed) {
    auto plain = personal->Open(sealed);
    return plain.ok() ? std::optional<std::string>(std::move(plain).value()) : std::nullopt;
  };
}

using command_detail::UnknownKind;

CommandHandler::~CommandHandler() {
  std::unique_lock lock(counters_mu_);
  counters_done_.wait(lock, [this] { return counters_in_flight_.empty(); });
}

std::optional<Result<CommandOutcome>> CommandHandler::FindPrior(const WorkflowDefinition& def,
                                                                const Command& command,
                                                                const std::string& key) {
  auto events = log_.ReadStream(command.stream, UINT64_MAX, Direction::kBackward,
                                options_.idempotency_lookback);
  if (!events.ok()) return std::nullopt;
  AppendResult r;
  // Newest first: collect the contiguous run of events the first attempt appended.
  for (const auto& e : events.value()) {
    if (e.causation_id == key) {
      if (r.events.empty()) r.stream_version = e.version;
      r.events.insert(r.events.begin(), std::make_shared<Event>(e));
    } else if (!r.events.empty()) {
      break;
    }
  }
  if (r.events.empty()) return std::nullopt;
  r.first_position = r.events.front()->position;
  r.last_position = r.events.back()->position;
  r.deduplicated = true;
  // The same key on a different command is a client bug, not a retry.
  auto spec = def.commands.find(command.name);
  if (spec == def.commands.end()) return std::nullopt;
  const auto& spec_events = spec->second.events;
  bool same = spec_events.size() == r.events.size();
  for (size_t i = 0; same && i < r.events.size(); ++i) {
    same = spec_events[i].type == r.events[i]->type;
  }
  if (!same) {
    return Result<CommandOutcome>(Status::InvalidArgument(
        fmt::format("idempotency key '{}' was already used for a different command on {}; use "
                    "a new key for a new command",
                    key, command.stream),
        Status::SubCode::kIdempotencyKeyReused));
  }
  return Result<CommandOutcome>(CommandOutcome{std::nullopt, std::move(r)});
}

Result<CommandHandler::Prepared> CommandHandler::Prepare(
    const Command& command, std::optional<Result<CommandOutcome>>* early) {
  if (Status s = ValidateStreamId(command.stream); !s.ok()) return s;
  Prepared p;
  p.def = workflows_.ForStream(command.stream);
  if (p.def == nullptr) return UnknownKind(command.stream);
  const std::string& key = command.idempotency_key;
  if (Status s = command_detail::CheckKey(key); !s.ok()) return s;
  auto loaded = Load(command.stream);
  if (!loaded.ok()) return loaded.status();
  p.state = std::move(loaded).value();
  if (command.expected_version && *command.expected_version != p.state->version) {
    // The caller may have read a version newer than a stale cached state: check the log.
    cache_.Erase(command.stream);
    loaded = Load(command.stream);
    if (!loaded.ok()) return loaded.status();
    p.state = std::move(loaded).value();
  }
  if (command.expected_version && *command.expected_version != p.state->version) {
    if (!key.empty()) {
      if (auto prior = FindPrior(*p.def, command, key)) {
        *early = std::move(prior);
        return p;
      }
    }
    *early = Result<CommandOutcome>(Status::Conflict(
        fmt::format("stream {} is at version {}, not {}: read it again and decide anew",
                    command.stream, p.state->version, *command.expected_version),
        p.state->exists() ? std::optional<uint64_t>(p.state->version) : std::nullopt,
        p.state->exists() ? Status::SubCode::kVersionMismatch : Status::SubCode::kStreamMissing,
        command.stream));
    return p;
  }
  p.now = options_.clock->Now();
  return p;
}

EmitHeader CommandHandler::Header(const Command& command, const Actor& actor,
                                  const WorkflowState& state) const {
  return Header(command, actor.EnvelopeJson(), actor.tenant, state);
}

EmitHeader CommandHandler::Header(const Command& command, std::string actor_json,
                                  const std::string& actor_tenant,
                                  const WorkflowState& state) const {
  EmitHeader h;
  h.stream = command.stream;
  const WorkflowDefinition* def = workflows_.ForStream(command.stream);
  auto spec = def->commands.find(command.name);
  if (spec != def->commands.end() && spec->second.concurrent) {
    h.expected = ExpectedVersion::Any();
  } else {
    h.expected =
        state.exists() ? ExpectedVersion::Exact(state.version) : ExpectedVersion::NoStream();
  }
  h.actor = std::move(actor_json);
  h.tenant = state.exists() ? state.tenant : actor_tenant;
  h.correlation_id = command.correlation_id;
  // The key ties the events to the command that caused them: a retry finds them (FindPrior).
  h.causation_id = command.idempotency_key.empty() ? command.causation_id : command.idempotency_key;
  h.idempotency_key = command.idempotency_key;
  return h;
}

Status CommandHandler::Allocate(const WorkflowDefinition& def, const DecideContext& ctx,
                                std::vector<DecidedEvent>& events,
                                std::vector<AllocatedEvent>* also) {
  also->clear();
  const StreamVersionOf version_of = [this](const std::string& stream) -> Result<uint64_t> {
    auto v = log_.StreamVersion(stream);
    if (!v.ok()) return v;
    std::lock_guard lock(counters_mu_);
    auto it = counters_in_flight_.find(stream);
    return it == counters_in_flight_.end() ? *v : std::max(*v, it->second.first);
  };
  const StreamStateOf state_of =
      [this](const std::string& stream) -> Result<std::shared_ptr<const WorkflowState>> {
    auto loaded = Load(stream);
    if (!loaded.ok()) return loaded.status();
    return std::shared_ptr<const WorkflowState>(std::move(loaded).value());
  };
  const SubjectOfIdentifier subject_of =
      [this](const std::string& tenant,
             const std::string& identifier) -> Result<std::optional<std::string>> {
    return options_.personal->keys().FindSubject(tenant, identifier);
  };
  DecideContext reading = ctx;
  reading.state_of = &state_of;
  if (options_.personal != nullptr) reading.subject_of = &subject_of;
  for (auto& e : events) {
    for (const auto& name : e.allocators) {
      const Allocator* a = def.hooks ? def.hooks->FindAllocator(name) : nullptr;
      if (a == nullptr) {
        return Status::InvalidArgument("allocator '" + name + "' is not registered");
      }
      if (Status s = (*a)(version_of, reading, e.type, e.data, also); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

void CommandHandler::AllocateAndAppend(const WorkflowDefinition& def, const DecideContext& ctx,
                                       const EmitHeader& header, std::vector<DecidedEvent>& events,
                                       std::function<void(Result<AppendResult>)> done) {
  std::unique_lock lock(counters_mu_);
  std::vector<AllocatedEvent> also;
  if (Status s = Allocate(def, ctx, events, &also); !s.ok()) {
    lock.unlock();
    return done(s);
  }
  auto req = emitter_.Build(header, events, also);
  if (!req.ok()) {
    lock.unlock();
    return done(req.status());
  }
  std::vector<std::string> counters;
  for (const auto& a : also) {
    auto& [version, n] = counters_in_flight_[a.stream];
    version = std::max(version, a.expected_version + 1);
    ++n;
    counters.push_back(a.stream);
  }
  log_.AppendAsync(std::move(req).value(), [this, counters = std::move(counters),
                                            done = std::move(done)](Result<AppendResult> r) {
    {
      std::lock_guard inner(counters_mu_);
      for (const auto& c : counters) {
        auto it = counters_in_flight_.find(c);
        if (it != counters_in_flight_.end() && --it->second.second == 0) {
          counters_in_flight_.erase(it);
        }
      }
      if (counters_in_flight_.empty()) counters_done_.notify_all();
    }
    done(std::move(r));
  });
}

using command_detail::Allocates;
using command_detail::DefinitionBug;
using command_detail::NothingAppended;

Result<CommandOutcome> CommandHandler::Handle(const Command& command, const Actor& actor) {
  std::optional<Result<CommandOutcome>> early;
  auto prepared = Prepare(command, &early);
  if (!prepared.ok()) return prepared.status();
  if (early) return std::move(*early);
  const WorkflowDefinition& def = *prepared->def;
  StatePtr state = std::move(prepared->state);
  const std::string& key = command.idempotency_key;

  Decision d = Decide(def, *state, command, actor, prepared->now, opener());
  if (!d.accepted()) {
    // A retry after the first attempt succeeded meets the state that attempt produced.
    if (!key.empty()) {
      if (auto prior = FindPrior(def, command, key)) return prior.value();
    }
    return CommandOutcome{d.rejection(), {}};
  }
  if (d.events().empty()) return NothingAppended(*state, std::move(d.reply));

  const EmitHeader header = Header(command, actor, *state);
  // The key store's writes (a new person's subject and keys) before the counters' lock.
  if (Status s = emitter_.PrepareSubjects(header.tenant, d.events()); !s.ok()) return s;
  DecideContext ctx{*state, command, actor, prepared->now};
  ctx.open_personal = opener();
  Result<AppendResult> appended = Status::Unavailable("not appended");
  const bool allocates = Allocates(d.events());
  // A counter another command took first is allocated again; the decision itself still holds
  // because the command's own stream is still expected at the version it was decided on.
  for (int attempt = 0;; ++attempt) {
    if (allocates) {
      // Shared with the callback: the log's thread may still be inside set_value when this one
      // wakes and leaves.
      auto answer = std::make_shared<std::promise<Result<AppendResult>>>();
      auto future = answer->get_future();
      AllocateAndAppend(def, ctx, header, d.events(),
                        [answer](Result<AppendResult> r) { answer->set_value(std::move(r)); });
      appended = future.get();
    } else {
      appended = emitter_.Emit(header, d.events(), {});
    }
    if (appended.ok() || !appended.status().IsConflict() ||
        appended.status().conflict_stream() == command.stream || attempt == 100) {
      break;
    }
  }
  if (!appended.ok()) {
    if (appended.status().Is(Status::SubCode::kSchemaViolation)) {
      return DefinitionBug(command, def, appended.status());
    }
    cache_.Erase(command.stream);
    if (!key.empty()) {
      if (auto prior = FindPrior(def, command, key)) return prior.value();
    }
    return appended.status();
  }
  if (appended->deduplicated) {
    cache_.Erase(command.stream);
  } else {
    Remember(def, std::move(state), d.events(), appended.value());
  }
  return CommandOutcome{std::nullopt, std::move(appended).value(), std::move(d.reply)};
}

void CommandHandler::HandleAsync(const Command& command, const Actor& actor,
                                 std::function<void(Result<CommandOutcome>)> done) {
  std::optional<Result<CommandOutcome>> early;
  auto prepared = Prepare(command, &early);
  if (!prepared.ok()) return done(prepared.status());
  if (early) return done(std::move(*early));
  const WorkflowDefinition& def = *prepared->def;
  const WorkflowState& state = *prepared->state;
  Decision d = Decide(def, state, command, actor, prepared->now, opener());
  if (!d.accepted()) return done(CommandOutcome{d.rejection(), {}});
  if (d.events().empty()) return done(NothingAppended(state, std::move(d.reply)));
  DecideContext ctx{state, command, actor, prepared->now};
  ctx.open_personal = opener();
  const EmitHeader header = Header(command, actor, state);
  if (Status s = emitter_.PrepareSubjects(header.tenant, d.events()); !s.ok()) return done(s);
  if (Allocates(d.events())) {
    // Numbers are taken past those still in flight, so many commands share one group commit.
    cache_.Erase(command.stream);
    AllocateAndAppend(def, ctx, header, d.events(),
                      [done = std::move(done), reply = std::move(d.reply), name = command.name,
                       &def](Result<AppendResult> r) mutable {
                        if (!r.ok() && r.status().Is(Status::SubCode::kSchemaViolation)) {
                          Command c;
                          c.name = name;
                          return done(DefinitionBug(c, def, r.status()));
                        }
                        if (!r.ok()) return done(r.status());
                        done(CommandOutcome{std::nullopt, std::move(r).value(), std::move(reply)});
                      });
    return;
  }
  auto req = emitter_.Build(header, d.events(), {});
  if (!req.ok()) return done(DefinitionBug(command, def, req.status()));
  // The cached state stays: the next command on the stream finds it one version behind the log
  // and folds only what this one added (Load), where dropping it would replay the whole stream;
  // what it added is kept as decided, so that fold reads and parses nothing.
  log_.AppendAsync(
      std::move(req).value(),
      [this, stream = command.stream, events = std::move(d.events()), done = std::move(done),
       reply = std::move(d.reply)](Result<AppendResult> r) mutable {
        if (!r.ok()) return done(r.status());
        if (!r->deduplicated && !r->events.empty() && r->events.size() == events.size()) {
          std::lock_guard lock(appended_mu_);
          if (appended_.size() >= kAppended) appended_.clear();
          appended_[stream] =
              Appended{r->events.front()->version, r->events.front()->tenant, std::move(events)};
        }
        done(CommandOutcome{std::nullopt, std::move(r).value(), std::move(reply)});
      });
}

}  // namespace procedo
