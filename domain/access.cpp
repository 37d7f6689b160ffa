#include "domain/access.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <map>

#include "domain/citizen.h"
#include "engine/workflow/decide.h"

namespace procedo::domain {

const std::set<std::string>& Roles() {
  static const std::set<std::string> kRoles = {
      "operator",    "validator", "operator_validator", "region",          "helpdesk_l1",
      "helpdesk_l2", "citizen",   "integrator",         "privacy_officer", "admin"};
  return kRoles;
}

bool IsAdmin(const Principal& who) {
  return who.role == "admin";
}

bool MayExchange(const Principal& who) {
  return (who.role == "operator" || who.role == "operator_validator") && !who.tenant.empty();
}

StreamFacts FactsOfFields(const std::string& tenant, const nlohmann::json& fields) {
  StreamFacts f;
  f.tenant = tenant;
  auto text = [&fields](const char* key) {
    auto it = fields.find(key);
    return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  f.forwarded_to = text("forwarded_to");
  // Who opened a ticket, or who started an enrolment online, is its requester.
  f.requester = text("opened_by");
  if (f.requester.empty() && text("channel") == "online") f.requester = text("started_by");
  // A service account is its holder's: the citizen whose online application was admitted.
  if (f.requester.empty()) f.requester = text("holder");
  return f;
}

StreamFacts FactsOf(const WorkflowState& state) {
  return FactsOfFields(state.tenant, state.fields);
}

bool MayRead(const Principal& who, const StreamFacts& stream) {
  if (IsAdmin(who)) return true;
  if (stream.tenant.empty()) return false;
  if (who.role == "citizen") {
    return stream.tenant == who.tenant && !stream.requester.empty() && stream.requester == who.id;
  }
  if (stream.tenant == who.tenant) return true;
  return !stream.forwarded_to.empty() && stream.forwarded_to == who.tenant;
}

StreamFacts AccountFacts(const std::string& tenant, const std::string& holder) {
  StreamFacts f;
  f.tenant = tenant;
  f.requester = holder;
  return f;
}

StreamFacts PaymentFacts(const std::string& tenant, const StreamFacts& reference) {
  StreamFacts f;
  f.tenant = tenant;
  if (reference.tenant == tenant) f.requester = reference.requester;
  return f;
}

bool MayReadServiceUsage(const Principal& who) {
  return RoleMayRead(who, {"operator", "validator", "operator_validator", "integrator"});
}

bool MayExportPersonalData(const Principal& who) {
  return IsAdmin(who) || (who.role == "privacy_officer" && !who.tenant.empty());
}

bool MayOpenPersonalData(const Principal& who) {
  return (who.role == "integrator" || who.role == "privacy_officer") && !who.tenant.empty();
}

bool MayReadPayments(const Principal& who) {
  return MayReadServiceUsage(who);
}

bool TicketKeyValid(const std::string& secret, const TicketLink& link) {
  const std::string want = DeriveTicketKey(secret, link.tenant, link.stream);
  return link.key.size() == want.size() &&
         CRYPTO_memcmp(link.key.data(), want.data(), want.size()) == 0;
}

bool RequesterMayRead(const TicketLink& link, const StreamFacts& stream) {
  return link.stream.starts_with("ticket-") && !stream.tenant.empty() &&
         stream.tenant == link.tenant && IdNamesTenant(link.stream, link.tenant);
}

const char* RequesterText(std::string_view type) {
  static const std::map<std::string_view, const char*> kText = {
      {"ticket.opened", "description"},
      {"ticket.escalated", "reason"},
      {"ticket.information_requested", "question"},
      {"ticket.information_received", "answer"},
      {"ticket.reminder_received", "reminder"},
      {"ticket.complaint_received", "complaint"},
      {"ticket.resolved", "solution"},
      {"ticket.closed", "note"},
      {"ticket.reopened", "reopen_reason"},
  };
  auto it = kText.find(type);
  return it == kText.end() ? nullptr : it->second;
}

bool MailboxMayFile(const std::string& mailbox_tenant, const StreamFacts& stream) {
  // Not MayRead: a Region reads what was forwarded to it, but mail to a Comune's help desk is
  // the Comune's alone.
  return !mailbox_tenant.empty() && stream.tenant == mailbox_tenant;
}

Result<std::string> TenantToRead(const Principal& who, const std::optional<std::string>& asked,
                                 bool required) {
  if (!IsAdmin(who)) {
    if (asked && *asked != who.tenant) {
      return Status::PermissionDenied(fmt::format("you read tenant {} only", who.tenant));
    }
    return who.tenant;
  }
  if (!asked || asked->empty()) {
    if (required) {
      return Status::InvalidArgument(
          "name the tenant to read with ?tenant= (admins read any tenant, one at a time)");
    }
    return std::string();
  }
  return *asked;
}

bool RoleMayRead(const Principal& who, std::initializer_list<std::string_view> roles) {
  if (IsAdmin(who)) return true;
  return std::find(roles.begin(), roles.end(), who.role) != roles.end();
}

bool RoleMayRead(const Principal& who, const std::vector<std::string>& roles) {
  if (IsAdmin(who)) return true;
  return std::find(roles.begin(), roles.end(), who.role) != roles.end();
}

bool IdNamesTenant(std::string_view stream, std::string_view tenant) {
  auto dash = stream.find('-');
  if (dash == std::string_view::npos || tenant.empty()) return false;
  std::string_view rest = stream.substr(dash + 1);
  return rest.size() > tenant.size() && rest.starts_with(tenant) && rest[tenant.size()] == '-';
}

std::string StreamNumber(std::string_view stream, std::string_view tenant) {
  const size_t dash = stream.find('-');
  std::string_view number = dash == std::string_view::npos ? stream : stream.substr(dash + 1);
  if (!tenant.empty() && number.size() > tenant.size() && number.starts_with(tenant) &&
      number[tenant.size()] == '-') {
    number.remove_prefix(tenant.size() + 1);
  }
  return std::string(number);
}

std::string TenantOfStreamId(std::string_view stream, const std::set<std::string>& tenants) {
  auto dash = stream.find('-');
  if (dash == std::string_view::npos) return {};
  std::string_view rest = stream.substr(dash + 1);
  // The longest known tenant the id starts with, followed by '-' (tenant ids contain dashes).
  std::string best;
  for (const auto& t : tenants) {
    if (rest.size() > t.size() && rest.starts_with(t) && rest[t.size()] == '-' &&
        t.size() > best.size()) {
      best = t;
    }
  }
  return best;
}

Actor ActorFor(const Principal& who, const std::string& owner_tenant) {
  Actor a{who.id, who.role, who.tenant};
  if (IsAdmin(who)) a.tenant = owner_tenant;
  return a;
}

std::vector<std::string> CommandsOffered(const WorkflowDefinition& def, const WorkflowState& state,
                                         const Principal& who, TimePoint now) {
  std::vector<std::string> out;
  const Actor actor = ActorFor(who, state.tenant);
  for (const auto& [name, spec] : def.commands) {
    Command probe;
    probe.stream = state.stream;
    probe.name = name;
    // An empty payload: decide judges tenant, role and state before the payload, so a refusal
    // of those kinds means the command is not for this actor now; any later one (the payload,
    // a guard) is the form's to show once it is filled in.
    Decision d = Decide(def, state, probe, actor, now);
    if (d.accepted()) {
      out.push_back(name);
      continue;
    }
    switch (d.rejection().kind) {
      case Rejection::Kind::kPayloadInvalid:
      case Rejection::Kind::kGuardRefused:
        out.push_back(name);
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace procedo::domain
