// Loading a workflow definition: schema first, then the cross-checks a schema cannot express.
// Every problem is collected, so one run of the loader lists all that must change.
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/log/codec.h"
#include "engine/workflow/workflow.h"

namespace procedo {
namespace {

using nlohmann::json;

class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void Add(const std::string& path, const std::string& problem, const std::string& fix) {
    items_.push_back(
        fmt::format("{} at {}: {}; {}", file_, path.empty() ? "/" : path, problem, fix));
  }
  bool empty() const { return items_.empty(); }
  Status ToStatus() const {
    std::string msg = fmt::format("{}: invalid workflow definition ({} problem{}):", file_,
                                  items_.size(), items_.size() == 1 ? "" : "s");
    for (const auto& i : items_) msg += "\n  - " + i;
    return Status::InvalidArgument(msg);
  }

 private:
  std::string file_;
  std::vector<std::string> items_;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& s : j.at(key)) out.push_back(s.get<std::string>());
  }
  return out;
}

// Payload properties a mapping may name; nullopt when the payload schema does not list them.
std::optional<std::set<std::string>> PayloadProperties(const json& payload) {
  if (!payload.contains("properties") || !payload["properties"].is_object()) return std::nullopt;
  std::set<std::string> out;
  for (const auto& [k, v] : payload["properties"].items()) out.insert(k);
  return out;
}

void CheckReference(const std::string& ref, const std::string& path,
                    const std::optional<std::set<std::string>>& props, Problems& p) {
  static const std::set<std::string> kFixed = {"$actor.id", "$actor.role", "$actor.tenant", "$now",
                                               "$stream"};
  if (kFixed.count(ref)) return;
  if (ref.rfind("$state.", 0) == 0 && ref.size() > 7) return;
  if (ref.rfind("$payload.", 0) == 0 && ref.size() > 9) {
    std::string field = ref.substr(9);
    if (props && !props->count(field)) {
      p.Add(path,
            fmt::format("'{}' names payload field '{}', which the payload schema does not "
                        "declare",
                        ref, field),
            "add it to the command's payload properties or fix the name");
    }
    return;
  }
  p.Add(path, fmt::format("unknown reference '{}'", ref),
        "use $actor.id, $actor.role, $actor.tenant, $now, $stream, $payload.<field> or "
        "$state.<field>");
}

void LoadCommand(const std::string& name, const json& j, const LoaderOptions& opts,
                 const std::set<std::string>& states, WorkflowDefinition& def,
                 std::set<std::string>& inner_types, Problems& p) {
  const std::string base = "/commands/" + name;
  CommandSpec c;
  c.name = name;
  c.initial = j.value("initial", false);
  c.from = Strings(j, "from");
  if (j.contains("to")) c.to = j["to"].get<std::string>();
  c.roles = Strings(j, "roles");
  if (j.contains("tenant_field")) c.tenant_field = j["tenant_field"].get<std::string>();
  c.guards = Strings(j, "guards");
  c.any_state = j.value("in_any_state", false);
  c.concurrent = j.value("concurrent", false);
  if (c.concurrent && (!c.guards.empty() || j.contains("decider"))) {
    p.Add(base + "/concurrent",
          "a concurrent command is decided without the stream's latest state, so it can have no "
          "guards and no decider",
          "remove 'concurrent', or the guards and the decider");
  }
  if (j.contains("decider")) c.decider = j["decider"].get<std::string>();

  if (c.any_state && !c.from.empty()) {
    p.Add(base + "/from", "a command allowed in any state lists no from-states",
          "remove 'from' or 'in_any_state'");
  }
  if (!c.initial && c.from.empty() && !c.any_state) {
    p.Add(base, "the command has no from-states",
          "add \"from\": [states], \"in_any_state\": true or \"initial\": true");
  }
  if (c.initial && !c.to) {
    p.Add(base, "an initial command must say which state the new stream is in",
          "add \"to\": <state>");
  }
  if (c.decider && (!opts.hooks || !opts.hooks->FindDecider(*c.decider))) {
    p.Add(base + "/decider", fmt::format("no decider named '{}' is registered", *c.decider),
          "fix the name or register the decider in the domain's C++");
  }
  for (size_t i = 0; i < c.from.size(); ++i) {
    if (!states.count(c.from[i])) {
      p.Add(fmt::format("{}/from/{}", base, i), fmt::format("unknown state '{}'", c.from[i]),
            "declare it in /states or use one of: " + Join({states.begin(), states.end()}));
    }
  }
  if (c.to && !states.count(*c.to)) {
    p.Add(base + "/to", fmt::format("unknown state '{}'", *c.to),
          "declare it in /states or use one of: " + Join({states.begin(), states.end()}));
  }
  for (size_t i = 0; i < c.roles.size(); ++i) {
    if (!opts.roles.empty() && !opts.roles.count(c.roles[i])) {
      p.Add(fmt::format("{}/roles/{}", base, i), fmt::format("unknown role '{}'", c.roles[i]),
            "use one of: " + Join({opts.roles.begin(), opts.roles.end()}));
    }
  }
  for (size_t i = 0; i < c.guards.size(); ++i) {
    if (!opts.hooks || !opts.hooks->FindGuard(c.guards[i])) {
      p.Add(fmt::format("{}/guards/{}", base, i),
            fmt::format("no guard named '{}' is registered", c.guards[i]),
            "fix the name or register the guard in the domain's C++");
    }
  }
  // {"$event": "<type>"}: the payload is the data of that event, checked against its schema
  // (records the system makes, whose payload is what they record).
  json payload_schema = j["payload"];
  if (payload_schema.size() == 1 && payload_schema.contains("$event")) {
    const std::string type =
        payload_schema["$event"].is_string() ? payload_schema["$event"].get<std::string>() : "";
    const JsonSchema* es = opts.event_schemas ? opts.event_schemas->Find(type) : nullptr;
    if (es == nullptr) {
      p.Add(base + "/payload/$event", fmt::format("event type '{}' has no schema", type),
            "name an event type of schemas/events");
      payload_schema = json::object();
    } else {
      payload_schema = es->source();
    }
  }
  auto payload = JsonSchema::Compile(payload_schema, def.file + "#" + base + "/payload");
  if (!payload.ok()) {
    p.Add(base + "/payload", payload.status().message(), "fix the payload schema");
  } else {
    c.payload = std::move(payload).value();
  }
  auto props = PayloadProperties(payload_schema);

  const json& events = j["events"];
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    const std::string ep = fmt::format("{}/events/{}", base, i);
    EventSpec spec;
    spec.type = e["type"].get<std::string>();
    if (e.contains("copy") && e["copy"].is_array()) {
      spec.copy_all = false;
      for (const auto& f : e["copy"]) spec.copy.push_back(f.get<std::string>());
      for (size_t k = 0; k < spec.copy.size(); ++k) {
        if (props && !props->count(spec.copy[k])) {
          p.Add(
              fmt::format("{}/copy/{}", ep, k),
              fmt::format("payload field '{}' is not declared by the payload schema", spec.copy[k]),
              "declare it under the command's payload properties or remove it");
        }
      }
    }
    if (e.contains("set")) spec.set = e["set"];
    for (const auto& [k, v] : spec.set.items()) {
      if (v.is_string() && !v.get<std::string>().empty() && v.get<std::string>()[0] == '$') {
        CheckReference(v.get<std::string>(), ep + "/set/" + k, props, p);
      }
    }
    spec.effects = Strings(e, "effects");
    spec.allocators = Strings(e, "allocators");
    spec.merge = e.value("merge", true);
    if (e.contains("to")) {
      spec.to = e["to"].get<std::string>();
      if (!c.decider) {
        p.Add(ep + "/to", "an event's own 'to' needs a decider to choose between the events",
              "move 'to' to the command, or give the command a decider");
      } else if (!states.count(*spec.to)) {
        p.Add(ep + "/to", fmt::format("unknown state '{}'", *spec.to),
              "use one of: " + Join({states.begin(), states.end()}));
      }
    }
    if (!spec.merge) def.unmerged_events.insert(spec.type);
    for (size_t k = 0; k < spec.effects.size(); ++k) {
      if (!opts.hooks || !opts.hooks->FindEffect(spec.effects[k])) {
        p.Add(fmt::format("{}/effects/{}", ep, k),
              fmt::format("no effect named '{}' is registered", spec.effects[k]),
              "fix the name or register the effect in the domain's C++");
      }
    }
    for (size_t k = 0; k < spec.allocators.size(); ++k) {
      if (!opts.hooks || !opts.hooks->FindAllocator(spec.allocators[k])) {
        p.Add(fmt::format("{}/allocators/{}", ep, k),
              fmt::format("no allocator named '{}' is registered", spec.allocators[k]),
              "fix the name or register the allocator in the domain's C++");
      }
    }
    if (opts.event_schemas && !opts.event_schemas->Find(spec.type)) {
      p.Add(ep + "/type", fmt::format("event type '{}' has no schema", spec.type),
            fmt::format("add {}/{}.json", opts.event_schemas->dir(), spec.type));
    }
    // The fold needs one answer to "which state does this event lead to": the last event of a
    // command leads to the command's to-state; earlier events of a multi-event command to none.
    if (i + 1 < events.size() && !c.decider) {
      inner_types.insert(spec.type);
      c.events.push_back(std::move(spec));
      continue;
    }
    std::optional<std::string> target = spec.to ? spec.to : c.to;
    auto [it, inserted] = def.event_to_state.emplace(spec.type, target);
    if (!inserted && it->second != target) {
      p.Add(ep + "/type",
            fmt::format("event '{}' leads to state '{}' here but to '{}' in another command",
                        spec.type, target.value_or("(unchanged)"),
                        it->second.value_or("(unchanged)")),
            "give the commands the same 'to' or emit different event types");
    }
    c.events.push_back(std::move(spec));
  }
  def.commands.emplace(name, std::move(c));
}

void LoadClock(size_t i, const json& j, const LoaderOptions& opts, const WorkflowDefinition& def,
               std::set<std::string>& ids, WorkflowDefinition& out, Problems& p) {
  const std::string base = fmt::format("/sla_clocks/{}", i);
  SlaClock c;
  c.id = j["id"].get<std::string>();
  if (!ids.insert(c.id).second) {
    p.Add(base + "/id", fmt::format("clock id '{}' is used twice", c.id),
          "give each clock its own id");
  }
  auto events = [&](const char* key, std::vector<std::string>& into) {
    into = Strings(j, key);
    for (size_t k = 0; k < into.size(); ++k) {
      if (!def.event_to_state.count(into[k])) {
        p.Add(fmt::format("{}/{}/{}", base, key, k),
              fmt::format("no command of this workflow emits '{}'", into[k]),
              "name an event type that one of /commands emits");
      }
    }
  };
  events("start", c.start);
  events("pause", c.pause);
  events("resume", c.resume);
  events("stop", c.stop);
  auto target = [&](const std::string& text, const std::string& path) -> std::optional<SlaTarget> {
    auto t = ParseSlaTarget(text);
    if (!t.ok()) {
      p.Add(path, t.status().message(), "write N followed by m, h, bd or cd, e.g. \"30m\"");
      return std::nullopt;
    }
    return t.value();
  };
  if (j.contains("target")) c.target = target(j["target"], base + "/target");
  if (j.contains("target_by")) c.target_by = j["target_by"].get<std::string>();
  if (j.contains("target_field")) c.target_field = j["target_field"].get<std::string>();
  if (j.contains("targets")) {
    for (const auto& [k, v] : j["targets"].items()) {
      if (auto t = target(v.get<std::string>(), base + "/targets/" + k)) c.targets.emplace(k, *t);
    }
  }
  if (j.contains("calendar")) {
    c.calendar = j["calendar"].get<std::string>();
    if (!opts.calendars.empty() && !opts.calendars.count(*c.calendar)) {
      p.Add(base + "/calendar", fmt::format("unknown calendar '{}'", *c.calendar),
            "use one of: " + Join({opts.calendars.begin(), opts.calendars.end()}));
    }
  }
  if (j.contains("calendar_field")) c.calendar_field = j["calendar_field"].get<std::string>();
  if (j.contains("tenant_field")) c.tenant_field = j["tenant_field"].get<std::string>();
  c.warning_fraction = j.value("warning_fraction", 0.8);
  out.sla_clocks.push_back(std::move(c));
}

// The states a command can lead to: its own 'to' and its events' (a decider's outcomes).
std::vector<std::string> Targets(const CommandSpec& c) {
  std::vector<std::string> out;
  if (c.to) out.push_back(*c.to);
  for (const auto& e : c.events) {
    if (e.to) out.push_back(*e.to);
  }
  return out;
}

void CheckReachable(const WorkflowDefinition& def, Problems& p) {
  std::set<std::string> reached;
  std::deque<std::string> todo;
  for (const auto& [n, c] : def.commands) {
    if (!c.initial) continue;
    for (const auto& t : Targets(c)) {
      if (reached.insert(t).second) todo.push_back(t);
    }
  }
  while (!todo.empty()) {
    std::string s = todo.front();
    todo.pop_front();
    for (const auto& [n, c] : def.commands) {
      if (!c.any_state && std::find(c.from.begin(), c.from.end(), s) == c.from.end()) continue;
      for (const auto& t : Targets(c)) {
        if (reached.insert(t).second) todo.push_back(t);
      }
    }
  }
  for (size_t i = 0; i < def.states.size(); ++i) {
    if (!reached.count(def.states[i])) {
      p.Add(fmt::format("/states/{}", i),
            fmt::format("state '{}' is unreachable from the initial command", def.states[i]),
            "add a command that leads to it from a reachable state, or remove it");
    }
  }
}

}  // namespace

Result<WorkflowDefinition> LoadWorkflowFile(const std::string& path, const LoaderOptions& opts) {
  auto doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  auto schema = JsonSchema::LoadFile(opts.workflow_schema_path);
  if (!schema.ok()) return schema.status();
  Problems p(path);
  for (const auto& v : schema.value()->Validate(doc.value())) {
    p.Add(v.path, v.message, "make it match " + opts.workflow_schema_path);
  }
  if (!p.empty()) return p.ToStatus();

  const json& j = doc.value();
  WorkflowDefinition def;
  def.file = path;
  def.id = j["id"].get<std::string>();
  def.version = j["version"].get<uint32_t>();
  def.stream_kind = j["stream_kind"].get<std::string>();
  def.states = Strings(j, "states");
  def.hooks = opts.hooks;
  std::set<std::string> states(def.states.begin(), def.states.end());
  bool any_initial = false;
  std::set<std::string> inner_types;
  for (const auto& [name, c] : j["commands"].items()) {
    LoadCommand(name, c, opts, states, def, inner_types, p);
    any_initial = any_initial || c.value("initial", false);
  }
  for (const auto& t : inner_types) def.event_to_state.emplace(t, std::nullopt);
  def.reducers = Strings(j, "reducers");
  for (size_t i = 0; i < def.reducers.size(); ++i) {
    if (!opts.hooks || !opts.hooks->FindReducer(def.reducers[i])) {
      p.Add(fmt::format("/reducers/{}", i),
            fmt::format("no reducer named '{}' is registered", def.reducers[i]),
            "fix the name or register the reducer in the domain's C++");
    }
  }
  if (!any_initial) {
    p.Add("/commands", "no command creates the stream", "mark one command \"initial\": true");
  }
  CheckReachable(def, p);
  if (j.contains("sla_clocks")) {
    std::set<std::string> ids;
    for (size_t i = 0; i < j["sla_clocks"].size(); ++i) {
      LoadClock(i, j["sla_clocks"][i], opts, def, ids, def, p);
    }
  }
  if (!def.sla_clocks.empty()) {
    for (auto [command, event] : {std::pair{kRecordSlaWarning, kSlaWarningEvent},
                                  std::pair{kRecordSlaBreach, kSlaBreachedEvent}}) {
      auto it = def.commands.find(command);
      if (it == def.commands.end() || !it->second.any_state || !it->second.FindEvent(event)) {
        p.Add(fmt::format("/commands/{}", command),
              fmt::format("a workflow with SLA clocks needs the command '{}', allowed in any "
                          "state, emitting '{}': the SLA timer sends it",
                          command, event),
              fmt::format("add \"{}\": {{\"in_any_state\": true, \"roles\": [\"system\"], "
                          "\"payload\": {{\"type\": \"object\"}}, \"events\": [{{\"type\": "
                          "\"{}\", \"merge\": false}}]}}",
                          command, event));
      }
    }
  }
  if (!p.empty()) return p.ToStatus();

  std::string canonical = j.dump();
  codec::Sha256 sha;
  sha.Update(canonical.data(), canonical.size());
  def.fingerprint = HashToHex(sha.Final());
  return def;
}

Result<WorkflowSet> WorkflowSet::LoadDir(const std::string& dir, const LoaderOptions& opts) {
  auto listed = JsonFilesIn(dir, "workflow");
  if (!listed.ok()) return listed.status();
  const std::vector<std::string>& files = *listed;
  WorkflowSet set;
  std::string errors;
  for (const auto& f : files) {
    auto def = LoadWorkflowFile(f, opts);
    Status s = def.ok() ? set.Add(std::move(def).value()) : def.status();
    if (!s.ok()) errors += (errors.empty() ? "" : "\n") + s.message();
  }
  if (!errors.empty()) return Status::InvalidArgument(errors);
  return set;
}

}  // namespace procedo
