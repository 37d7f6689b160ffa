// The command handler's batch path: many commands of one stream decided in one go. What it spares
// against one HandleAsync per command is the per-command round: a load (cache lookup, the log's
// version, the fold of the last answer's events), the actor's envelope text, and a wake-up of the
// caller per answer. What it keeps is everything a command is: its own decide on the state the
// commands before it left, every event checked against its schema, its own append with its
// idempotency key.
#include <fmt/format.h>

#include <mutex>

#include "engine/workflow/command_handler.h"
#include "engine/workflow/command_handler_detail.h"

namespace procedo {

namespace {

// The answers of one batch, filled as the log answers its appends.
struct BatchAnswers {
  std::mutex mu;
  std::vector<Result<CommandOutcome>> out;
  std::vector<size_t> owner;  // per append, the command it carries
  size_t pending = 0;
  // The folded state is the log's: false once an append failed or was answered from a prior
  // attempt, since the fold then holds events the log does not.
  bool matches_log = true;
  std::shared_ptr<WorkflowState> state;
  std::function<void(std::vector<Result<CommandOutcome>>)> done;
};

}  // namespace

void CommandHandler::HandleBatchAsync(
    const std::vector<Command>& commands, const Actor& actor,
    std::function<void(std::vector<Result<CommandOutcome>>)> done) {
  auto answers = std::make_shared<BatchAnswers>();
  answers->out.reserve(commands.size());
  auto all = [&](const Status& s) {
    answers->out.assign(commands.size(), Result<CommandOutcome>(s));
    done(std::move(answers->out));
  };
  if (commands.empty()) return done({});
  const std::string& stream = commands.front().stream;
  if (Status s = ValidateStreamId(stream); !s.ok()) return all(s);
  const WorkflowDefinition* def = workflows_.ForStream(stream);
  if (def == nullptr) return all(command_detail::UnknownKind(stream));
  auto loaded = Load(stream);
  if (!loaded.ok()) return all(loaded.status());
  StatePtr before = std::move(loaded).value();
  const TimePoint now = options_.clock->Now();
  const std::string actor_json = actor.EnvelopeJson();
  std::vector<AppendRequest> requests;

  for (size_t i = 0; i < commands.size(); ++i) {
    const Command& c = commands[i];
    const WorkflowState& current = answers->state ? *answers->state : *before;
    if (c.stream != stream) {
      answers->out.emplace_back(Status::InvalidArgument(fmt::format(
          "a batch is one stream's: {} is not {}; send it in its own batch", c.stream, stream)));
      continue;
    }
    if (Status s = command_detail::CheckKey(c.idempotency_key); !s.ok()) {
      answers->out.emplace_back(s);
      continue;
    }
    if (c.expected_version) {
      answers->out.emplace_back(Status::InvalidArgument(
          "a batch decides each command at the version the one before it leaves: send a "
          "command with an expected version on its own"));
      continue;
    }
    Decision d = Decide(*def, current, c, actor, now, opener());
    if (!d.accepted()) {
      answers->out.emplace_back(CommandOutcome{d.rejection(), {}});
      continue;
    }
    if (d.events().empty()) {
      answers->out.emplace_back(command_detail::NothingAppended(current, std::move(d.reply)));
      continue;
    }
    if (command_detail::Allocates(d.events())) {
      answers->out.emplace_back(Status::InvalidArgument(
          fmt::format("'{}' takes numbers from counters: send it on its own", c.name)));
      continue;
    }
    EmitHeader header = Header(c, actor_json, actor.tenant, current);
    if (Status s = emitter_.PrepareSubjects(header.tenant, d.events()); !s.ok()) {
      answers->out.emplace_back(s);
      continue;
    }
    auto req = emitter_.Build(header, d.events(), {});
    if (!req.ok()) {
      answers->out.emplace_back(command_detail::DefinitionBug(c, *def, req.status()));
      continue;
    }
    // The next command is decided on what this one leaves; the state leaves the cache until the
    // log has answered, so nobody reads what is not durable yet.
    if (!answers->state) answers->state = TakeForUpdate(std::move(before));
    WorkflowState& next = *answers->state;
    for (auto& e : d.events()) {
      Apply(*def, next, stream, next.version + 1, header.tenant, e.type, std::move(e.data));
    }
    answers->out.emplace_back(CommandOutcome{std::nullopt, {}, std::move(d.reply)});
    answers->owner.push_back(i);
    requests.push_back(std::move(req).value());
  }
  if (requests.empty()) {
    done(std::move(answers->out));
    return;
  }
  answers->pending = requests.size();
  answers->done = std::move(done);
  for (size_t j = 0; j < requests.size(); ++j) {
    log_.AppendAsync(std::move(requests[j]), [this, answers, j](Result<AppendResult> r) {
      std::unique_lock lock(answers->mu);
      Result<CommandOutcome>& slot = answers->out[answers->owner[j]];
      if (!r.ok()) {
        answers->matches_log = false;
        slot = r.status();
      } else {
        answers->matches_log = answers->matches_log && !r->deduplicated;
        slot->append = std::move(r).value();
      }
      if (--answers->pending > 0) return;
      lock.unlock();
      // Handed over, not shared: the next batch of the stream takes it for update in place, which
      // it can only while the cache is its one holder.
      std::shared_ptr<WorkflowState> state = std::move(answers->state);
      if (answers->matches_log) {
        cache_.Put(std::move(state));
      } else {
        cache_.Erase(state->stream);
      }
      answers->done(std::move(answers->out));
    });
  }
}

}  // namespace procedo
