// Workflows are data: a definition file lists states, commands (payload schema, roles, from/to
// states, the events they emit and how payload fields map into them, named guards and effects)
// and SLA clock declarations. C++ is registered by name only for what data cannot express.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/clock.h"
#include "engine/base/status.h"
#include "engine/workflow/json_schema.h"

namespace procedo {

class LogStore;

// Who runs a command: a person or integrator (id, role, tenant), or a component of the system
// itself (role "system", id the component: "sla-timer", "notifier"), which acts for the tenant
// that owns the stream. Only code in this process makes system actors; no credential carries
// the role.
struct Actor {
  std::string id;
  std::string role;
  std::string tenant;

  static constexpr const char* kSystemRole = "system";
  static Actor System(std::string component, std::string tenant = {}) {
    return {std::move(component), kSystemRole, std::move(tenant)};
  }
  bool system() const { return role == kSystemRole; }
  nlohmann::json ToJson() const { return {{"id", id}, {"role", role}, {"tenant", tenant}}; }
  // The event envelope's actor: {"id","role","tenant"}, or {"system": id} for the system.
  std::string EnvelopeJson() const {
    return system() ? nlohmann::json{{"system", id}}.dump() : ToJson().dump();
  }
};

// A stream's state: the fold of its events. `fields` is the shallow merge of every event's
// data, so guards and mappings can read any fact the stream has recorded.
struct WorkflowState {
  std::string stream;
  uint64_t version = 0;  // 0: the stream does not exist
  std::string status;    // current state name; "" before the first event
  std::string tenant;
  nlohmann::json fields = nlohmann::json::object();
  // What the workflow's reducers keep beyond the shallow merge, by reducer name (a list of
  // closures, a map of credentials): facts no single event's data holds.
  nlohmann::json derived = nlohmann::json::object();
  bool exists() const { return version > 0; }
  bool operator==(const WorkflowState&) const = default;
  nlohmann::json ToJson() const;
  static WorkflowState FromJson(const nlohmann::json& j);
};

struct Command {
  std::string stream;
  std::string name;  // "suspend_case"
  nlohmann::json payload = nlohmann::json::object();
  std::string idempotency_key;  // optional; a retry with the same key returns the first result
  std::string correlation_id;   // optional
  // What caused it (an event id), for commands without an idempotency key: the events' causation
  // is the idempotency key when there is one, which is how a retry finds its first attempt.
  std::string causation_id = {};
  // The stream version the caller decided on (HTTP If-Match); a different current version is a
  // conflict, unless the idempotency key shows this exact command already succeeded.
  std::optional<uint64_t> expected_version = std::nullopt;
};

// Another stream's state as the command handler folds it (cache, snapshot, log).
using StreamStateOf =
    std::function<Result<std::shared_ptr<const WorkflowState>>(const std::string& stream)>;

// What guards and effects see. Pure: no I/O, time comes from `now`.
// The data subject an identifying value (a fiscal code, an e-mail address) already has in a
// tenant when personal data is sealed; nullopt when nobody has it yet. A sealed value in a state
// cannot be compared with the value a command gives, and its subject can.
using SubjectOfIdentifier = std::function<Result<std::optional<std::string>>(
    const std::string& tenant, const std::string& identifier)>;

// The plaintext of a sealed personal value a state holds (crypto/personal.h; a JSON text for a
// value sealed as one); nullopt once its key is erased, or for text that is no such value.
using OpenPersonalValue = std::function<std::optional<std::string>(std::string_view sealed)>;

struct DecideContext {
  const WorkflowState& state;
  const Command& command;
  const Actor& actor;
  TimePoint now;
  // Set only while allocators run, after decide: a command may depend on a fact another stream
  // holds (the member of the household an application names), and reading it there keeps
  // decide pure and the command's one append the only write. Null in guards and effects.
  const StreamStateOf* state_of = nullptr;
  // Set only while allocators run, and only when personal data is sealed.
  const SubjectOfIdentifier* subject_of = nullptr;
  // Set whenever personal data is sealed: a decision that rests on a personal fact of the state
  // (the ISEE a tariff depends on) opens it; what the decision writes of it stays sealed (a copy
  // of the sealed value), never the plaintext.
  const OpenPersonalValue* open_personal = nullptr;
};

// A guard returns the reason it refuses, or nullopt to allow.
using Guard = std::function<std::optional<std::string>(const DecideContext&)>;
// An effect completes an event's data from facts data files cannot reach (the state, the
// catalogue). It runs after guards allowed the command.
using Effect =
    std::function<void(const DecideContext&, const std::string& event_type, nlohmann::json& data)>;
// An event for another stream that an allocator adds to the command's append: written in the
// same batch, all or nothing, checked against its schema like the command's own.
struct AllocatedEvent {
  std::string stream;
  uint64_t expected_version = 0;  // 0: the stream must not exist yet
  std::string type;
  nlohmann::json data;
};
// A stream's version as an allocator must count it: the log's, or past it, the version the
// command handler's appends still in flight will give it (so that commands kept in flight
// together take consecutive numbers instead of the same one).
using StreamVersionOf = std::function<Result<uint64_t>(const std::string& stream)>;
// An allocator runs in the command handler after decide and before the append, for what must be
// derived from the log (gap-free sequence numbers: the counter stream's version is the number).
// It completes `data` and adds the counter's event to `also`; when a concurrent command took the
// same number first, the append conflicts on the counter and the handler runs the allocator
// again.
using Allocator = std::function<Status(const StreamVersionOf& version_of, const DecideContext&,
                                       const std::string& event_type, nlohmann::json& data,
                                       std::vector<AllocatedEvent>* also)>;

// A decider decides a command whose outcome data cannot express: which events (of the types its
// command declares, possibly none) or why not. Pure like a guard.
struct DeciderOutcome {
  std::optional<std::string> refusal;                          // set: refused for this reason
  std::vector<std::pair<std::string, nlohmann::json>> events;  // type, data
  // What the caller learns beyond the events (which credentials a password matched): handed
  // back with the outcome, never stored; a retry answered from the log does not have it.
  nlohmann::json reply = nullptr;
};
using Decider = std::function<DeciderOutcome(const DecideContext&)>;

// A reducer folds each event of a stream into state.derived[name], for facts that need more than
// the shallow merge of event data (a list that grows and shrinks, a map by key). Pure.
using Reducer = std::function<void(nlohmann::json& derived, const std::string& event_type,
                                   const nlohmann::json& data)>;

class HookRegistry {
 public:
  void AddGuard(const std::string& name, Guard g) { guards_[name] = std::move(g); }
  void AddEffect(const std::string& name, Effect e) { effects_[name] = std::move(e); }
  void AddAllocator(const std::string& name, Allocator a) { allocators_[name] = std::move(a); }
  void AddDecider(const std::string& name, Decider d) { deciders_[name] = std::move(d); }
  void AddReducer(const std::string& name, Reducer r) { reducers_[name] = std::move(r); }
  const Guard* FindGuard(const std::string& n) const { return Find(guards_, n); }
  const Effect* FindEffect(const std::string& n) const { return Find(effects_, n); }
  const Allocator* FindAllocator(const std::string& n) const { return Find(allocators_, n); }
  const Decider* FindDecider(const std::string& n) const { return Find(deciders_, n); }
  const Reducer* FindReducer(const std::string& n) const { return Find(reducers_, n); }

 private:
  template <typename M>
  static const typename M::mapped_type* Find(const M& m, const std::string& n) {
    auto it = m.find(n);
    return it == m.end() ? nullptr : &it->second;
  }
  std::map<std::string, Guard> guards_;
  std::map<std::string, Effect> effects_;
  std::map<std::string, Allocator> allocators_;
  std::map<std::string, Decider> deciders_;
  std::map<std::string, Reducer> reducers_;
};

struct EventSpec {
  std::string type;
  // Payload fields copied into the data: all of them when `copy_all`, else those listed.
  bool copy_all = true;
  std::vector<std::string> copy;
  // Extra fields: literal JSON, or a reference string "$actor.id", "$actor.role",
  // "$actor.tenant", "$now", "$stream", "$payload.<field>", "$state.<field>".
  nlohmann::json set = nlohmann::json::object();
  std::vector<std::string> effects;
  std::vector<std::string> allocators;
  // False for records that do not describe the stream's subject (an SLA breach, a delivery):
  // they advance the version but their data is not merged into the state's fields.
  bool merge = true;
  // Where this event leads when it is not where the command does: a decider that answers with
  // one of several outcomes (a payment applied, or an anomaly that changes nothing) names each
  // outcome's state on its event. Only for commands with a decider.
  std::optional<std::string> to;
};

struct CommandSpec {
  std::string name;
  bool initial = false;           // may create the stream
  std::vector<std::string> from;  // states it is allowed in (none: only on a new stream)
  bool any_state = false;         // allowed in every state of an existing stream
  // A record that depends on nothing the stream holds (a delivery attempt): appended at whatever
  // version the stream has, so records sent in quick succession never conflict.
  bool concurrent = false;
  std::optional<std::string> to;  // nullopt: the state does not change
  std::vector<std::string> roles;
  // Whose tenant the actor must belong to: the stream's (default) or a state field's value,
  // e.g. "forwarded_to" for an office that acts on what was forwarded to it.
  std::optional<std::string> tenant_field;
  JsonSchemaPtr payload;
  std::vector<std::string> guards;
  // Decides which of `events` (by type) are emitted, instead of all of them; see Decider.
  std::optional<std::string> decider;
  std::vector<EventSpec> events;
  const EventSpec* FindEvent(const std::string& type) const {
    for (const auto& e : events) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }
};

struct SlaTarget {
  std::string text;  // "30m", "6h", "1bd", "20cd"
  enum class Unit { kBusinessMinutes, kBusinessHours, kBusinessDays, kCalendarDays } unit;
  uint32_t amount = 0;
};
Result<SlaTarget> ParseSlaTarget(const std::string& text);

// The commands the SLA timer sends to a stream whose clock is due, and the events they record:
// every workflow that declares clocks declares them (the loader checks).
inline constexpr const char* kRecordSlaWarning = "record_sla_warning";
inline constexpr const char* kRecordSlaBreach = "record_sla_breach";
inline constexpr const char* kSlaWarningEvent = "sla.warning";
inline constexpr const char* kSlaBreachedEvent = "sla.breached";

struct SlaClock {
  std::string id;
  std::vector<std::string> start, pause, resume, stop;  // event types
  std::optional<std::string> target_by;                 // state field choosing the target
  std::map<std::string, SlaTarget> targets;             // by that field's value
  std::optional<SlaTarget> target;                      // a single target
  std::optional<std::string> target_field;              // or the target read from a field
  std::optional<std::string> calendar;                  // a calendar id
  std::optional<std::string> calendar_field;            // or the calendar read from a field
  // The organisation accountable for the clock, whose SLA figures count it: the tenant this
  // state field names (the Region an application was forwarded to), or the stream's own.
  std::optional<std::string> tenant_field;
  double warning_fraction = 0.8;
};

struct WorkflowDefinition {
  std::string id;
  uint32_t version = 1;
  std::string file;         // where it was loaded from, for messages
  std::string fingerprint;  // SHA-256 of the file: snapshots of another definition are ignored
  std::string stream_kind;  // streams "<kind>-..." follow this workflow
  std::vector<std::string> states;
  std::map<std::string, CommandSpec> commands;
  std::vector<SlaClock> sla_clocks;
  std::vector<std::string> reducers;  // run on every event of the stream, in this order
  // Derived: the state each event type leads to (absent: the state does not change).
  std::map<std::string, std::optional<std::string>> event_to_state;
  std::set<std::string> unmerged_events;  // EventSpec::merge false
  std::shared_ptr<const HookRegistry> hooks;
};

struct LoaderOptions {
  std::string workflow_schema_path;  // schemas/workflow.schema.json
  const EventSchemas* event_schemas = nullptr;
  std::shared_ptr<const HookRegistry> hooks;
  std::set<std::string> roles;      // every role a command may name
  std::set<std::string> calendars;  // every calendar id an SLA clock may name
};

// Loads one definition: schema-validates it, then cross-checks states, events, hooks, roles and
// calendars. The error lists every problem as "<file> at <JSON path>: <problem>; <what to do>".
Result<WorkflowDefinition> LoadWorkflowFile(const std::string& path, const LoaderOptions& opts);

class WorkflowSet {
 public:
  // Every *.json under `dir`; stream kinds and ids must be unique across files.
  static Result<WorkflowSet> LoadDir(const std::string& dir, const LoaderOptions& opts);
  Status Add(WorkflowDefinition def);
  const WorkflowDefinition* ById(const std::string& id) const;
  const WorkflowDefinition* ForStream(const std::string& stream) const;
  const std::map<std::string, std::shared_ptr<const WorkflowDefinition>>& all() const {
    return by_id_;
  }

 private:
  std::map<std::string, std::shared_ptr<const WorkflowDefinition>> by_id_;
  std::map<std::string, std::shared_ptr<const WorkflowDefinition>> by_kind_;
};

}  // namespace procedo
