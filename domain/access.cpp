#include "domain/access.h"

#include <fmt/format.h>

#include <algorithm>

namespace procedo::domain {

const std::set<std::string>& Roles() {
  static const std::set<std::string> kRoles = {"operator", "validator",   "operator_validator",
                                               "region",   "helpdesk_l1", "helpdesk_l2",
                                               "citizen",  "integrator",  "admin"};
  return kRoles;
}

bool IsAdmin(const Principal& who) { return who.role == "admin"; }

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
  return f;
}

StreamFacts FactsOf(const WorkflowState& state) {
  return FactsOfFields(state.tenant, state.fields);
}

bool MayRead(const Principal& who, const StreamFacts& stream) {
  if (IsAdmin(who)) return true;
  if (stream.tenant.empty()) return false;
  if (who.role == "citizen") {
    return stream.tenant == who.tenant && !stream.requester.empty() &&
           stream.requester == who.id;
  }
  if (stream.tenant == who.tenant) return true;
  return !stream.forwarded_to.empty() && stream.forwarded_to == who.tenant;
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

}  // namespace procedo::domain
