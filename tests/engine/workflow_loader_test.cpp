// Loading workflow definitions: each kind of mistake gives an error that names the file, the
// JSON path and what to change. The definitions here are the engine's own, not the domain's.
#include <catch2/catch.hpp>
#include <fstream>

#include "engine/workflow/decide.h"
#include "engine/workflow/workflow.h"
#include "support/temp_dir.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

json BaseDefinition() {
  return json::parse(R"({
    "id": "door", "version": 1, "stream_kind": "door",
    "states": ["closed", "open", "locked"],
    "commands": {
      "install": {"initial": true, "to": "closed", "roles": ["keeper"],
                  "payload": {"type": "object", "required": ["colour"], "additionalProperties": false,
                              "properties": {"colour": {"enum": ["red", "blue"]}}},
                  "events": [{"type": "door.installed", "set": {"by": "$actor.id"}}]},
      "open": {"from": ["closed"], "to": "open", "roles": ["keeper", "guest"],
               "guards": ["not_friday"], "payload": {"type": "object"},
               "events": [{"type": "door.opened", "copy": [], "set": {"at": "$now"}, "effects": ["stamp"]}]},
      "close": {"from": ["open"], "to": "closed", "roles": ["keeper", "guest"],
                "payload": {"type": "object"}, "events": [{"type": "door.closed", "copy": []}]},
      "lock": {"from": ["closed"], "to": "locked", "roles": ["keeper"],
               "payload": {"type": "object"}, "events": [{"type": "door.locked", "copy": []}]},
      "paint": {"from": ["closed", "open", "locked"], "roles": ["keeper"],
                "payload": {"type": "object", "properties": {"colour": {"enum": ["red", "blue"]}}},
                "events": [{"type": "door.painted"}]},
      "record_sla_warning": {"in_any_state": true, "roles": ["system"], "payload": {"type": "object"},
                             "events": [{"type": "sla.warning", "merge": false}]},
      "record_sla_breach": {"in_any_state": true, "roles": ["system"], "payload": {"type": "object"},
                            "events": [{"type": "sla.breached", "merge": false}]}
    },
    "sla_clocks": [{"id": "draught", "start": ["door.opened"], "stop": ["door.closed"],
                    "target_by": "colour", "targets": {"red": "30m", "blue": "2bd"},
                    "calendar": "always", "warning_fraction": 0.5}]
  })");
}

struct Env {
  TempDir dir;
  EventSchemas events;
  LoaderOptions opts;
  std::shared_ptr<HookRegistry> hooks = std::make_shared<HookRegistry>();
  Env() {
    std::filesystem::create_directories(dir.sub("events"));
    for (const char* t :
         {"door.installed", "door.opened", "door.closed", "door.locked", "door.painted",
          "sla.warning", "sla.breached"}) {
      std::ofstream(dir.sub("events") + "/" + t + ".json") << R"({"type": "object"})";
    }
    events = EventSchemas::LoadDir(dir.sub("events")).value();
    hooks->AddGuard("not_friday", [](const DecideContext& c) -> std::optional<std::string> {
      if (c.command.payload.value("friday", false)) return "doors stay shut on Fridays";
      return std::nullopt;
    });
    hooks->AddEffect("stamp", [](const DecideContext& c, const std::string&, json& d) {
      d["stamped_by"] = c.actor.role;
    });
    opts.workflow_schema_path = std::string(PROCEDO_SOURCE_DIR) + "/schemas/workflow.schema.json";
    opts.event_schemas = &events;
    opts.hooks = hooks;
    opts.roles = {"keeper", "guest", "system"};
    opts.calendars = {"always", "office"};
  }
  std::string Write(const json& def, const std::string& name = "door.json") {
    std::filesystem::create_directories(dir.sub("wf"));
    std::string path = dir.sub("wf") + "/" + name;
    std::ofstream(path) << def.dump(2);
    return path;
  }
  Result<WorkflowDefinition> Load(const json& def) { return LoadWorkflowFile(Write(def), opts); }
};

// The load fails and its message names the file, the path and each fragment.
void ExpectError(Env& env, const json& def, const std::string& path,
                 std::vector<std::string> fragments) {
  auto r = env.Load(def);
  REQUIRE_FALSE(r.ok());
  const std::string& msg = r.status().message();
  INFO(msg);
  CHECK(r.status().IsInvalidArgument());
  CHECK_THAT(msg, Catch::Contains(env.dir.sub("wf") + "/door.json at " + path + ":"));
  for (const auto& f : fragments) CHECK_THAT(msg, Catch::Contains(f));
}

}  // namespace

TEST_CASE("a valid definition loads, with its SLA clocks") {
  Env env;
  auto r = env.Load(BaseDefinition());
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  const WorkflowDefinition& d = r.value();
  CHECK(d.commands.size() == 7);
  CHECK(d.event_to_state.at("door.opened") == std::optional<std::string>("open"));
  CHECK(d.event_to_state.at("door.painted") == std::nullopt);
  REQUIRE(d.sla_clocks.size() == 1);
  CHECK(d.sla_clocks[0].targets.at("blue").unit == SlaTarget::Unit::kBusinessDays);
  CHECK(d.sla_clocks[0].targets.at("red").amount == 30);
  CHECK(d.sla_clocks[0].warning_fraction == 0.5);
  CHECK(d.fingerprint.size() == 64);
}

TEST_CASE("each kind of bad definition names the file, the JSON path and the fix") {
  Env env;
  json d = BaseDefinition();
  SECTION("not JSON") {
    std::string path = env.Write(json());
    std::ofstream(path) << "{\"id\": \"door\",";
    auto r = LoadWorkflowFile(path, env.opts);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(path) && Catch::Contains("not valid JSON"));
  }
  SECTION("schema: a missing member") {
    d.erase("states");
    ExpectError(env, d, "/", {"states", "workflow.schema.json"});
  }
  SECTION("schema: a wrong type deep inside") {
    d["commands"]["open"]["roles"] = "keeper";
    ExpectError(env, d, "/commands/open/roles", {"workflow.schema.json"});
  }
  SECTION("schema: an SLA target in an unknown unit") {
    d["sla_clocks"][0]["targets"]["red"] = "30 minutes";
    ExpectError(env, d, "/sla_clocks/0/targets/red", {});
  }
  SECTION("unknown from-state") {
    d["commands"]["lock"]["from"] = {"closed", "ajar"};
    ExpectError(env, d, "/commands/lock/from/1", {"unknown state 'ajar'", "declare it in /states"});
  }
  SECTION("unknown to-state") {
    d["commands"]["lock"]["to"] = "bolted";
    ExpectError(env, d, "/commands/lock/to", {"unknown state 'bolted'"});
  }
  SECTION("unreachable state") {
    d["states"].push_back("broken");
    ExpectError(env, d, "/states/3", {"'broken' is unreachable", "add a command that leads to it"});
  }
  SECTION("event type without a schema") {
    d["commands"]["lock"]["events"][0]["type"] = "door.bolted";
    ExpectError(
        env, d, "/commands/lock/events/0/type",
        {"'door.bolted' has no schema", "add " + env.dir.sub("events") + "/door.bolted.json"});
  }
  SECTION("unknown guard") {
    d["commands"]["open"]["guards"] = {"not_friday", "not_sunday"};
    ExpectError(env, d, "/commands/open/guards/1", {"no guard named 'not_sunday'", "register"});
  }
  SECTION("unknown effect") {
    d["commands"]["open"]["events"][0]["effects"] = {"sparkle"};
    ExpectError(env, d, "/commands/open/events/0/effects/0", {"no effect named 'sparkle'"});
  }
  SECTION("unknown allocator") {
    d["commands"]["open"]["events"][0]["allocators"] = {"ticket_numbers"};
    ExpectError(env, d, "/commands/open/events/0/allocators/0", {"'ticket_numbers'"});
  }
  SECTION("unknown role") {
    d["commands"]["open"]["roles"] = {"keeper", "burglar"};
    ExpectError(env, d, "/commands/open/roles/1", {"unknown role 'burglar'", "guest, keeper"});
  }
  SECTION("a mapping names an undeclared payload field") {
    d["commands"]["install"]["events"][0]["set"]["tint"] = "$payload.tint";
    ExpectError(env, d, "/commands/install/events/0/set/tint", {"payload field 'tint'"});
  }
  SECTION("an unknown reference") {
    d["commands"]["install"]["events"][0]["set"]["who"] = "$user.name";
    ExpectError(env, d, "/commands/install/events/0/set/who", {"unknown reference '$user.name'"});
  }
  SECTION("copying an undeclared payload field") {
    d["commands"]["install"]["events"][0]["copy"] = {"colour", "size"};
    ExpectError(env, d, "/commands/install/events/0/copy/1", {"'size'"});
  }
  SECTION("no initial command") {
    d["commands"].erase("install");
    ExpectError(env, d, "/commands", {"mark one command \"initial\": true"});
  }
  SECTION("a command allowed in any state that also lists from-states") {
    d["commands"]["paint"]["in_any_state"] = true;
    ExpectError(env, d, "/commands/paint/from", {"remove 'from' or 'in_any_state'"});
  }
  SECTION("clocks without the commands the SLA timer sends") {
    d["commands"].erase("record_sla_breach");
    ExpectError(env, d, "/commands/record_sla_breach", {"the SLA timer sends it"});
  }
  SECTION("an unknown decider and an unknown reducer") {
    d["commands"]["paint"]["decider"] = "coin_toss";
    d["reducers"] = {"history"};
    ExpectError(env, d, "/commands/paint/decider", {"no decider named 'coin_toss'"});
    ExpectError(env, d, "/reducers/0", {"no reducer named 'history'"});
  }
  SECTION("one event type leading to two states") {
    d["commands"]["lock"]["events"][0]["type"] = "door.closed";
    ExpectError(env, d, "/commands/lock/events/0/type", {"'door.closed' leads to state"});
  }
  SECTION("an event's own state without a decider, or an unknown one") {
    d["commands"]["paint"]["events"][0]["to"] = "locked";
    ExpectError(env, d, "/commands/paint/events/0/to", {"needs a decider"});
    d["commands"]["paint"]["decider"] = "by_colour";
    d["commands"]["paint"]["events"][0]["to"] = "smashed";
    ExpectError(env, d, "/commands/paint/events/0/to", {"unknown state 'smashed'"});
  }
  SECTION("an SLA clock on an event no command emits") {
    d["sla_clocks"][0]["stop"] = {"door.slammed"};
    ExpectError(env, d, "/sla_clocks/0/stop/0",
                {"no command of this workflow emits 'door.slammed'"});
  }
  SECTION("an SLA clock on an unknown calendar") {
    d["sla_clocks"][0]["calendar"] = "lunar";
    ExpectError(env, d, "/sla_clocks/0/calendar", {"unknown calendar 'lunar'", "always, office"});
  }
  SECTION("an SLA clock with two kinds of target") {
    d["sla_clocks"][0]["target"] = "1h";
    ExpectError(env, d, "/sla_clocks/0", {});
  }
  SECTION("an invalid payload schema") {
    d["commands"]["open"]["payload"] = {{"type", "object"}, {"required", "colour"}};
    ExpectError(env, d, "/commands/open/payload", {});
  }
  SECTION("every problem is listed at once") {
    d["commands"]["lock"]["to"] = "bolted";
    d["commands"]["open"]["guards"] = {"nope"};
    auto r = env.Load(d);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(),
               Catch::Contains("3 problems") && Catch::Contains("/commands/lock/to") &&
                   Catch::Contains("/commands/open/guards/0") && Catch::Contains("/states/2"));
  }
}

TEST_CASE("a decider's events may each lead to their own state") {
  Env env;
  // Painting red locks the door; blue changes nothing: one command, two outcomes.
  env.hooks->AddDecider("by_colour", [](const DecideContext& c) {
    DeciderOutcome out;
    out.events.emplace_back(c.command.payload.value("colour", "") == "red" ? "door.locked"
                                                                            : "door.painted",
                            json::object());
    return out;
  });
  json d = BaseDefinition();
  d["commands"].erase("lock");
  d["commands"]["paint"]["decider"] = "by_colour";
  d["commands"]["paint"]["events"] = json::parse(
      R"([{"type": "door.painted"}, {"type": "door.locked", "to": "locked"}])");
  // "locked" is reachable only through the decider's event.
  auto def = env.Load(d);
  REQUIRE(def.ok());
  WorkflowState st;
  Apply(*def, st, "door-1", 1, "t1", "door.installed", json::object());
  REQUIRE(st.status == "closed");
  Apply(*def, st, "door-1", 2, "t1", "door.painted", json::object());
  CHECK(st.status == "closed");
  Apply(*def, st, "door-1", 3, "t1", "door.locked", json::object());
  CHECK(st.status == "locked");
}

TEST_CASE("two definitions may not share a stream kind") {
  Env env;
  env.Write(BaseDefinition(), "a.json");
  json other = BaseDefinition();
  other["id"] = "door2";
  env.Write(other, "b.json");
  auto r = WorkflowSet::LoadDir(env.dir.sub("wf"), env.opts);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(),
             Catch::Contains("b.json at /stream_kind") && Catch::Contains("a.json"));
}

TEST_CASE("decide is pure and checks tenant, role, state, payload and guards in that order") {
  Env env;
  auto def = env.Load(BaseDefinition()).value();
  TimePoint now{std::chrono::seconds(1'790'000'000)};
  Actor keeper{"k1", "keeper", "t1"};
  WorkflowState none;
  Command install{"door-t1-1", "install", {{"colour", "red"}}, "", ""};
  Decision d = Decide(def, none, install, keeper, now);
  REQUIRE(d.accepted());
  CHECK(d.events().at(0).data == json{{"colour", "red"}, {"by", "k1"}});
  // Same inputs, same outputs.
  CHECK(Decide(def, none, install, keeper, now).events().at(0).data == d.events().at(0).data);

  WorkflowState st;
  Apply(def, st, "door-t1-1", 1, "t1", "door.installed", d.events()[0].data);
  CHECK(st.status == "closed");
  CHECK(st.tenant == "t1");

  auto kind = [&](const Command& c, const Actor& a) {
    Decision x = Decide(def, st, c, a, now);
    return x.accepted() ? std::string("accepted") : RejectionKindName(x.rejection().kind);
  };
  Command open{"door-t1-1", "open", json::object(), "", ""};
  CHECK(kind(open, keeper) == "accepted");
  CHECK(kind(open, Actor{"k2", "keeper", "t2"}) == "tenant_not_allowed");
  CHECK(kind(open, Actor{"x", "burglar", "t2"}) == "tenant_not_allowed");
  CHECK(kind(open, Actor{"x", "burglar", "t1"}) == "role_not_allowed");
  CHECK(kind(Command{"door-t1-1", "close", json::object(), "", ""}, keeper) ==
        "not_allowed_in_state");
  CHECK(kind(Command{"door-t1-1", "paint", {{"colour", "green"}}, "", ""}, keeper) ==
        "payload_invalid");
  CHECK(kind(Command{"door-t1-1", "open", {{"friday", true}}, "", ""}, keeper) == "guard_refused");
  CHECK(kind(Command{"door-t1-1", "fly", json::object(), "", ""}, keeper) == "unknown_command");
  CHECK(kind(install, keeper) == "not_allowed_in_state");

  Decision o = Decide(def, st, open, Actor{"g1", "guest", "t1"}, now);
  CHECK(o.events().at(0).data == json{{"at", FormatTime(now)}, {"stamped_by", "guest"}});
  // An event type the definition does not know only moves the version.
  WorkflowState before = st;
  Apply(def, st, "door-t1-1", 2, "t1", "sla.warning", {{"clock", "draught"}});
  CHECK(st.version == 2);
  CHECK(st.status == before.status);
  CHECK(st.fields == before.fields);
}

TEST_CASE("a JSON Schema reports every violation with its JSON Pointer") {
  auto s = JsonSchema::Compile(json::parse(R"({
    "type": "object", "required": ["a", "b"], "additionalProperties": false,
    "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "string"}},
                   "c": {"type": "object", "properties": {"d": {"enum": [1, 2]}}}}})"),
                               "test")
               .value();
  auto v = s->Validate(json::parse(R"({"a": "x", "b": ["ok", 3], "c": {"d": 7}, "e": 1})"));
  std::set<std::string> paths;
  for (const auto& x : v) paths.insert(x.path);
  INFO(FormatViolations(v));
  CHECK(paths.count("/a"));
  CHECK(paths.count("/b/1"));
  CHECK(paths.count("/c/d"));
  CHECK(paths.count(""));  // the extra member "e"
  CHECK(s->Validate(json::parse(R"({"a": 1, "b": []})")).empty());
  CHECK_FALSE(JsonSchema::Compile(json::parse(R"({"type": 7})"), "bad").ok());
}

}  // namespace procedo::testing
