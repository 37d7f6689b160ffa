#include "engine/workflow/decide.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/workflow/personal_fields.h"

namespace procedo {

using nlohmann::json;

const char* RejectionKindName(Rejection::Kind kind) {
  switch (kind) {
    case Rejection::Kind::kUnknownCommand:
      return "unknown_command";
    case Rejection::Kind::kNotAllowedInState:
      return "not_allowed_in_state";
    case Rejection::Kind::kRoleNotAllowed:
      return "role_not_allowed";
    case Rejection::Kind::kTenantNotAllowed:
      return "tenant_not_allowed";
    case Rejection::Kind::kPayloadInvalid:
      return "payload_invalid";
    case Rejection::Kind::kGuardRefused:
      return "guard_refused";
  }
  return "unknown";
}

namespace {

Decision Reject(Rejection::Kind kind, std::string message) {
  return Decision{Rejection{kind, std::move(message), {}, {}}};
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Resolves a "$..." reference; nullopt when the referenced value is absent.
std::optional<json> Resolve(const std::string& ref, const DecideContext& ctx) {
  if (ref == "$actor.id") return json(ctx.actor.id);
  if (ref == "$actor.role") return json(ctx.actor.role);
  if (ref == "$actor.tenant") return json(ctx.actor.tenant);
  if (ref == "$now") return json(FormatTime(ctx.now));
  if (ref == "$stream") return json(ctx.command.stream);
  auto field = [&](const json& obj, size_t prefix) -> std::optional<json> {
    auto it = obj.find(ref.substr(prefix));
    if (it == obj.end()) return std::nullopt;
    return *it;
  };
  if (ref.rfind("$payload.", 0) == 0) return field(ctx.command.payload, 9);
  if (ref.rfind("$state.", 0) == 0) return field(ctx.state.fields, 7);
  return std::nullopt;  // the loader refuses other references
}

std::vector<std::string> StartCommands(const WorkflowDefinition& def) {
  std::vector<std::string> out;
  for (const auto& [n, c] : def.commands) {
    if (c.initial) out.push_back(n);
  }
  return out;
}

}  // namespace

Decision Decide(const WorkflowDefinition& def, const WorkflowState& state, const Command& command,
                const Actor& actor, TimePoint now, const OpenPersonalValue* open_personal) {
  auto it = def.commands.find(command.name);
  if (it == def.commands.end()) {
    std::vector<std::string> names;
    for (const auto& [n, c] : def.commands) names.push_back(n);
    return Reject(Rejection::Kind::kUnknownCommand,
                  fmt::format("workflow '{}' has no command '{}'; its commands are: {}", def.id,
                              command.name, Join(names)));
  }
  const CommandSpec& spec = it->second;

  // Tenant before state: staff of another tenant learn nothing about the stream.
  if (state.exists()) {
    std::string expected = state.tenant;
    if (spec.tenant_field) {
      auto f = state.fields.find(*spec.tenant_field);
      expected = (f != state.fields.end() && f->is_string()) ? f->get<std::string>() : "";
    }
    if (actor.tenant != expected) {
      return Reject(Rejection::Kind::kTenantNotAllowed,
                    fmt::format("actor '{}' of tenant '{}' may not run '{}' on stream {}: it "
                                "belongs to another organisation",
                                actor.id, actor.tenant, command.name, command.stream));
    }
  }
  if (std::find(spec.roles.begin(), spec.roles.end(), actor.role) == spec.roles.end()) {
    return Reject(Rejection::Kind::kRoleNotAllowed,
                  fmt::format("role '{}' may not run '{}'; allowed roles: {}", actor.role,
                              command.name, Join(spec.roles)));
  }
  const bool allowed_here = state.exists()
                                ? spec.any_state || std::find(spec.from.begin(), spec.from.end(),
                                                              state.status) != spec.from.end()
                                : spec.initial;
  if (!allowed_here) {
    if (!state.exists()) {
      return Reject(Rejection::Kind::kNotAllowedInState,
                    fmt::format("stream {} does not exist; start it first with {}", command.stream,
                                Join(StartCommands(def))));
    }
    if (spec.from.empty()) {
      return Reject(Rejection::Kind::kNotAllowedInState,
                    fmt::format("'{}' starts a new stream, but {} already exists (state '{}'); "
                                "use a new stream id",
                                command.name, command.stream, state.status));
    }
    return Reject(Rejection::Kind::kNotAllowedInState,
                  fmt::format("'{}' is not allowed in state '{}'; it is allowed in: {}",
                              command.name, state.status, Join(spec.from)));
  }
  if (!command.payload.is_object()) {
    return Decision{Rejection{Rejection::Kind::kPayloadInvalid,
                              "the payload must be a JSON object",
                              {{"", "expected an object"}},
                              {}}};
  }
  if (auto v = spec.payload->Validate(command.payload); !v.empty()) {
    std::string msg =
        fmt::format("the payload of '{}' is invalid: {}", command.name, FormatViolations(v));
    return Decision{Rejection{Rejection::Kind::kPayloadInvalid, std::move(msg), std::move(v), {}}};
  }
  // A sealed personal value pasted into a command (copied from a published event, from the raw
  // log) would be shown
  // opened to whoever reads this stream: only the system copies sealed values.
  if (!actor.system()) {
    if (auto at = SealedValueAt(command.payload)) {
      return Decision{Rejection{
          Rejection::Kind::kPayloadInvalid,
          fmt::format("the payload of '{}' holds a sealed personal value (pd1.…) at {}; send the "
                      "value itself",
                      command.name, *at),
          {{*at, "a sealed personal value, which only the system may copy"}},
          {}}};
    }
  }

  DecideContext ctx{state, command, actor, now};
  ctx.open_personal = open_personal;
  for (const auto& g : spec.guards) {
    const Guard* guard = def.hooks ? def.hooks->FindGuard(g) : nullptr;
    if (guard == nullptr) {
      throw std::logic_error("guard '" + g + "' vanished after the definition was loaded");
    }
    if (auto reason = (*guard)(ctx)) {
      return Decision{Rejection{Rejection::Kind::kGuardRefused,
                                fmt::format("'{}' refused by {}: {}", command.name, g, *reason),
                                {},
                                g}};
    }
  }

  // A decider picks which declared events happen and gives their data; otherwise every declared
  // event happens, its data mapped from the payload.
  std::vector<std::pair<const EventSpec*, json>> chosen;
  json reply;
  if (spec.decider) {
    const Decider* decider = def.hooks ? def.hooks->FindDecider(*spec.decider) : nullptr;
    if (decider == nullptr) {
      throw std::logic_error("decider '" + *spec.decider +
                             "' vanished after the definition was loaded");
    }
    DeciderOutcome decided = (*decider)(ctx);
    if (decided.refusal) {
      return Decision{Rejection{
          Rejection::Kind::kGuardRefused,
          fmt::format("'{}' refused by {}: {}", command.name, *spec.decider, *decided.refusal),
          {},
          *spec.decider}};
    }
    for (auto& [type, data] : decided.events) {
      const EventSpec* e = spec.FindEvent(type);
      if (e == nullptr) {
        throw std::logic_error("decider '" + *spec.decider + "' emitted '" + type +
                               "', which command '" + command.name + "' does not declare");
      }
      chosen.emplace_back(e, std::move(data));
    }
    reply = std::move(decided.reply);
  } else {
    for (const auto& e : spec.events) {
      json data = json::object();
      if (e.copy_all) {
        data = command.payload;
      } else {
        for (const auto& f : e.copy) {
          if (auto p = command.payload.find(f); p != command.payload.end()) data[f] = *p;
        }
      }
      chosen.emplace_back(&e, std::move(data));
    }
  }

  std::vector<DecidedEvent> out;
  for (auto& [e, data] : chosen) {
    DecidedEvent ev{e->type, std::move(data), e->allocators};
    if (!ev.data.is_object()) ev.data = json::object();
    for (const auto& [k, v] : e->set.items()) {
      if (v.is_string() && v.get<std::string>().rfind("$", 0) == 0) {
        if (auto r = Resolve(v.get<std::string>(), ctx)) ev.data[k] = std::move(*r);
      } else {
        ev.data[k] = v;
      }
    }
    for (const auto& name : e->effects) {
      const Effect* effect = def.hooks ? def.hooks->FindEffect(name) : nullptr;
      if (effect == nullptr) {
        throw std::logic_error("effect '" + name + "' vanished after the definition was loaded");
      }
      (*effect)(ctx, e->type, ev.data);
    }
    out.push_back(std::move(ev));
  }
  Decision d{std::move(out)};
  d.reply = std::move(reply);
  return d;
}

void Apply(const WorkflowDefinition& def, WorkflowState& state, const std::string& stream,
           uint64_t version, const std::string& tenant, const std::string& type, json data) {
  if (!state.exists()) {
    state.stream = stream;
    state.tenant = tenant;
  }
  state.version = version;
  auto it = def.event_to_state.find(type);
  if (it == def.event_to_state.end()) return;
  if (it->second) state.status = *it->second;
  for (const auto& name : def.reducers) {
    const Reducer* r = def.hooks ? def.hooks->FindReducer(name) : nullptr;
    if (r != nullptr) (*r)(state.derived[name], type, data);
  }
  if (data.is_object() && (def.unmerged_events.empty() || !def.unmerged_events.count(type))) {
    for (auto it = data.begin(); it != data.end(); ++it) state.fields[it.key()] = std::move(*it);
  }
}

Status ApplyEvent(const WorkflowDefinition& def, WorkflowState& state, const Event& event) {
  json data = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) {
    return Status::Corruption(
        fmt::format("event {} of stream {} (position {}) has data that is "
                    "not JSON; run `procedo verify`",
                    event.version, event.stream, event.position));
  }
  Apply(def, state, event.stream, event.version, event.tenant, event.type, std::move(data));
  return Status::Ok();
}

}  // namespace procedo
