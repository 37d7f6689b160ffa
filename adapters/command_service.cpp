#include "adapters/command_service.h"

#include <fmt/format.h>

#include "adapters/event_json.h"
#include "domain/numbers.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/decide.h"

namespace procedo {
namespace {

nlohmann::json Violations(const std::vector<SchemaViolation>& vs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : vs) out.push_back({{"path", v.path}, {"message", v.message}});
  return out;
}

CommandReply Refused(Problem p) {
  CommandReply r;
  r.status = p.status;
  r.problem = std::move(p);
  return r;
}

}  // namespace

Problem ProblemFromRejection(const Rejection& r) {
  switch (r.kind) {
    case Rejection::Kind::kUnknownCommand:
      return {404, "unknown-command", "Unknown command", r.message};
    case Rejection::Kind::kNotAllowedInState:
      return {409, "not-allowed-in-state", "Not allowed in this state", r.message};
    case Rejection::Kind::kRoleNotAllowed:
      return {403, "role-not-allowed", "Your role may not do this", r.message};
    case Rejection::Kind::kTenantNotAllowed:
      return {403, "tenant-not-allowed", "Not your organisation's stream", r.message};
    case Rejection::Kind::kPayloadInvalid:
      return {422,
              "payload-invalid",
              "The command's payload is invalid",
              r.message,
              {{"violations", Violations(r.violations)}}};
    case Rejection::Kind::kGuardRefused:
      return {422,
              "guard-refused",
              "Refused by a rule of the procedure",
              r.message,
              {{"guard", r.guard}}};
  }
  return {422, "rejected", "Rejected", r.message};
}

CommandReply CommandService::Execute(const Principal& who, const Command& command) const {
  CommandHandler* handler = handler_;
  if (handler == nullptr) {
    return Refused({503, "unavailable", "Commands are not available", "no workflows are loaded"});
  }
  if (Status s = ValidateStreamId(command.stream); !s.ok()) {
    return Refused(Problem::FromStatus(s));
  }
  auto not_found = [&command] {
    return Refused({404, "stream-not-found", "Stream not found",
                    fmt::format("no stream {} that you may act on; a new stream's id names your "
                                "organisation: <kind>-<tenant>-<id>",
                                command.stream)});
  };
  std::string owner = who.tenant;
  if (domain::IsAdmin(who)) {
    // Administrators belong to no Comune: they act for the stream's owner, or for the tenant a
    // new stream's id names.
    auto state = handler->Load(command.stream);
    const std::string named = domain::TenantOfStreamId(command.stream, tenants_);
    if (state.ok() && (*state)->exists()) {
      owner = (*state)->tenant;
    } else if (!named.empty()) {
      owner = named;
    } else {
      return Refused({422, "stream-names-no-tenant", "The stream id names no organisation",
                      fmt::format("{} does not name a known tenant; use <kind>-<tenant>-<id>",
                                  command.stream)});
    }
  } else if (!domain::IdNamesTenant(command.stream, who.tenant)) {
    // Another tenant's id: only a stream forwarded to this principal's tenant (or its own, from
    // before ids named tenants) may be acted on.
    auto state = handler->Load(command.stream);
    const bool may = state.ok() && (*state)->exists() &&
                     ((*state)->tenant == who.tenant ||
                      domain::MayRead(who, domain::FactsOf(**state)));
    if (!may) return not_found();
  }
  const Actor actor = domain::ActorFor(who, owner);
  auto outcome = handler->Handle(command, actor);
  if (!outcome.ok()) return Refused(Problem::FromStatus(outcome.status()));
  if (!outcome->accepted()) return Refused(ProblemFromRejection(*outcome->rejection));
  const AppendResult& a = outcome->append;
  CommandReply r;
  r.status = a.deduplicated ? 200 : 201;
  r.stream_version = a.stream_version;
  // The answer is about the command's stream: what an allocator added to other streams in the
  // same batch (a number's counter) is not, and a retry answered from the stream would not have
  // it, so first and retried answers name the same events and positions.
  uint64_t first = 0, last = 0;
  r.events = "[";
  for (const auto& e : a.events) {
    if (e->stream != command.stream) continue;
    if (first == 0) {
      first = e->position;
    } else {
      r.events.push_back(',');
    }
    last = e->position;
    AppendEventJson(*e, &r.events);
  }
  r.events.push_back(']');
  r.body = {{"stream", command.stream},
            {"version", a.stream_version},
            {"position", last},
            {"first_position", first},
            {"deduplicated", a.deduplicated}};
  return r;
}

CommandReply CommandService::Create(const Principal& who, const std::string& kind,
                                    Command command) const {
  if (who.tenant.empty()) {
    return Refused({422, "stream-names-no-tenant", "No organisation to create it for",
                    fmt::format("you belong to no organisation; name the stream yourself with "
                                "POST /v1/streams/{}-<tenant>-<id>/commands/{}",
                                kind, command.name)});
  }
  command.stream = domain::NewStreamId(kind, who.tenant, command.idempotency_key);
  CommandReply r = Execute(who, command);
  if (!r.accepted()) return r;
  for (const auto& e : nlohmann::json::parse(r.events, nullptr, false)) {
    auto number = e.find("data");
    if (number != e.end() && number->contains("number") && (*number)["number"].is_string()) {
      r.body["number"] = (*number)["number"];
      break;
    }
  }
  return r;
}

std::string CommandReply::Text() const {
  std::string out = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!accepted() || !body.is_object()) return out;
  out.pop_back();  // the object's '}': the events go last
  if (out.size() > 1) out.push_back(',');
  out.append(R"("events":)").append(events).push_back('}');
  return out;
}

nlohmann::json CommandReply::Document() const {
  nlohmann::json d = body;
  if (accepted() && d.is_object()) d["events"] = nlohmann::json::parse(events, nullptr, false);
  return d;
}

}  // namespace procedo
