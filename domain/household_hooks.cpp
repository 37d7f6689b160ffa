// A household's members (seed 003): the applicant is m1, each declared dependant the next id.
// Server-given ids, so that nothing downstream needs a fiscal code to tell the children apart.
#include <fmt/format.h>

#include "domain/accounts.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

const json& Members(const WorkflowState& state) {
  static const json kNone = json::array();
  auto it = state.derived.find("household_members");
  return it == state.derived.end() || !it->is_array() ? kNone : *it;
}

// A citizen names only a household they registered themselves; staff enter applications for
// anyone, so any household of their organisation will do.
bool RegisteredByActor(const WorkflowState& household, const Actor& actor) {
  if (actor.role != "citizen") return true;
  auto by = household.fields.find("opened_by");
  return by != household.fields.end() && by->is_string() && by->get<std::string>() == actor.id;
}

// The member an application names must be one the household has declared: the position its
// admission opens belongs to that member, and a made-up id would group it with nobody.
Status CheckNamedMember(const DecideContext& c) {
  auto named = c.command.payload.find("household");
  if (named == c.command.payload.end() || !named->is_object()) return Status::Ok();
  const std::string stream = named->value("stream", "");
  const std::string member = named->value("member", "");
  if (c.state_of == nullptr) {
    return Status::Unavailable("the household could not be read; send the command again");
  }
  auto household = (*c.state_of)(stream);
  if (!household.ok() && !household.status().IsInvalidArgument()) return household.status();
  const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
  // Another organisation's household, and for a citizen another person's, is answered as one
  // that does not exist: the answer must not tell anyone that a household is there.
  if (!household.ok() || !(*household)->exists() || (*household)->tenant != tenant ||
      !RegisteredByActor(**household, c.actor)) {
    return Status::InvalidArgument(
        fmt::format("household {} is not registered; register it first (register_household) "
                    "and name the stream it was given",
                    stream),
        Status::SubCode::kReferenceMissing);
  }
  std::vector<std::string> ids;
  for (const auto& m : Members(**household)) {
    ids.push_back(m.value("member", ""));
    if (ids.back() == member) return Status::Ok();
  }
  return Status::InvalidArgument(
      fmt::format("household {} has no member '{}' (its members: {}); declare the dependant "
                  "first (declare_dependant) or name one of its members",
                  stream, member, fmt::join(ids, ", ")),
      Status::SubCode::kReferenceMissing);
}

// A fiscal code is declared once per household. With personal data sealed, the members' codes
// are sealed values that cannot be compared with the one given: the person's data subject, which
// the code finds, is compared instead.
Status CheckNotDeclared(const DecideContext& c) {
  const std::string tax_code = c.command.payload.value("tax_code", "");
  std::optional<std::string> subject;
  if (c.subject_of != nullptr && !tax_code.empty()) {
    auto found = (*c.subject_of)(c.state.tenant, tax_code);
    if (!found.ok()) return found.status();
    subject = *found;
  }
  for (const auto& m : Members(c.state)) {
    if (m.value("tax_code", "") == tax_code || (subject && m.value("subject", "") == *subject)) {
      return Status::InvalidArgument(
          fmt::format("this fiscal code is already member {} of the household; declare each "
                      "dependant once",
                      m.value("member", "")),
          Status::SubCode::kAlreadyPresent);
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterHouseholdHooks(HookRegistry& hooks) {
  hooks.AddAllocator("household_member_exists",
                     [](const StreamVersionOf&, const DecideContext& c, const std::string&, json&,
                        std::vector<AllocatedEvent>*) { return CheckNamedMember(c); });
  hooks.AddReducer(
      "household_members", [](json& members, const std::string& type, const json& data) {
        if (!members.is_array()) members = json::array();
        json m = {{"member", data.value("member", "")}, {"source", data.value("source", "")}};
        if (type == "household.registered") {
          const json applicant = data.value("applicant", json::object());
          m["name"] = applicant.value("name", "");
          m["tax_code"] = applicant.value("tax_code", "");
          if (applicant.contains("subject")) m["subject"] = applicant["subject"];
          m["role"] = "applicant";
        } else if (type == "household.dependant_declared") {
          for (const char* k : {"name", "tax_code", "birth_date"}) {
            m[k] = data.value(k, "");
          }
          if (data.contains("subject")) m["subject"] = data["subject"];
          m["role"] = "dependant";
        } else {
          return;
        }
        members.push_back(std::move(m));
      });
  hooks.AddEffect("next_member", [](const DecideContext& c, const std::string&, json& data) {
    data["member"] = fmt::format("m{}", Members(c.state).size() + 1);
  });
  hooks.AddAllocator("dependant_not_declared",
                     [](const StreamVersionOf&, const DecideContext& c, const std::string&, json&,
                        std::vector<AllocatedEvent>*) { return CheckNotDeclared(c); });
}

}  // namespace procedo::domain
