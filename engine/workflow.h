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
#include <vector>

#include "engine/clock.h"
#include "engine/json_schema.h"
#include "engine/status.h"

namespace procedo {

class LogStore;

struct Actor {
  std::string id;
  std::string role;
  std::string tenant;
  nlohmann::json ToJson() const { return {{"id", id}, {"role", role}, {"tenant", tenant}}; }
};

// A stream's state: the fold of its events. `fields` is the shallow merge of every event's
// data, so guards and mappings can read any fact the stream has recorded.
struct WorkflowState {
  std::string stream;
  uint64_t version = 0;  // 0: the stream does not exist
  std::string status;    // current state name; "" before the first event
  std::string tenant;
  nlohmann::json fields = nlohmann::json::object();
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
  // The stream version the caller decided on (HTTP If-Match); a different current version is a
  // conflict, unless the idempotency key shows this exact command already succeeded.
  std::optional<uint64_t> expected_version = std::nullopt;
};

// What guards and effects see. Pure: no I/O, time comes from `now`.
struct DecideContext {
  const WorkflowState& state;
  const Command& command;
  const Actor& actor;
  TimePoint now;
};

// A guard returns the reason it refuses, or nullopt to allow.
using Guard = std::function<std::optional<std::string>(const DecideContext&)>;
// An effect completes an event's data from facts data files cannot reach (the state, the
// catalogue). It runs after guards allowed the command.
using Effect =
    std::function<void(const DecideContext&, const std::string& event_type, nlohmann::json& data)>;
// An allocator runs in the command handler after decide and before the append, with access to
// the log, for what must be derived from the log (e.g. gap-free sequence numbers).
using Allocator = std::function<Status(LogStore& log, const DecideContext&,
                                       const std::string& event_type, nlohmann::json& data)>;

class HookRegistry {
 public:
  void AddGuard(const std::string& name, Guard g) { guards_[name] = std::move(g); }
  void AddEffect(const std::string& name, Effect e) { effects_[name] = std::move(e); }
  void AddAllocator(const std::string& name, Allocator a) { allocators_[name] = std::move(a); }
  const Guard* FindGuard(const std::string& n) const { return Find(guards_, n); }
  const Effect* FindEffect(const std::string& n) const { return Find(effects_, n); }
  const Allocator* FindAllocator(const std::string& n) const { return Find(allocators_, n); }

 private:
  template <typename M>
  static const typename M::mapped_type* Find(const M& m, const std::string& n) {
    auto it = m.find(n);
    return it == m.end() ? nullptr : &it->second;
  }
  std::map<std::string, Guard> guards_;
  std::map<std::string, Effect> effects_;
  std::map<std::string, Allocator> allocators_;
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
};

struct CommandSpec {
  std::string name;
  bool initial = false;           // creates the stream
  std::vector<std::string> from;  // states it is allowed in (empty for the initial command)
  std::optional<std::string> to;  // nullopt: the state does not change
  std::vector<std::string> roles;
  // Whose tenant the actor must belong to: the stream's (default) or a state field's value,
  // e.g. "forwarded_to" for an office that acts on what was forwarded to it.
  std::optional<std::string> tenant_field;
  JsonSchemaPtr payload;
  std::vector<std::string> guards;
  std::vector<EventSpec> events;
};

struct SlaTarget {
  std::string text;  // "30m", "6h", "1bd", "20cd"
  enum class Unit { kBusinessMinutes, kBusinessHours, kBusinessDays, kCalendarDays } unit;
  uint32_t amount = 0;
};
Result<SlaTarget> ParseSlaTarget(const std::string& text);

struct SlaClock {
  std::string id;
  std::vector<std::string> start, pause, resume, stop;  // event types
  std::optional<std::string> target_by;                 // state field choosing the target
  std::map<std::string, SlaTarget> targets;             // by that field's value
  std::optional<SlaTarget> target;                      // a single target
  std::optional<std::string> target_field;              // or the target read from a field
  std::optional<std::string> calendar;                  // a calendar id
  std::optional<std::string> calendar_field;            // or the calendar read from a field
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
  // Derived: the state each event type leads to (absent: the state does not change).
  std::map<std::string, std::optional<std::string>> event_to_state;
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
