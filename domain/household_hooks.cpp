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

}  // namespace

void RegisterHouseholdHooks(HookRegistry& hooks) {
  hooks.AddReducer(
      "household_members", [](json& members, const std::string& type, const json& data) {
        if (!members.is_array()) members = json::array();
        json m = {{"member", data.value("member", "")}, {"source", data.value("source", "")}};
        if (type == "household.registered") {
          const json applicant = data.value("applicant", json::object());
          m["name"] = applicant.value("name", "");
          m["tax_code"] = applicant.value("tax_code", "");
          m["role"] = "applicant";
        } else if (type == "household.dependant_declared") {
          for (const char* k : {"name", "tax_code", "birth_date"}) {
            m[k] = data.value(k, "");
          }
          m["role"] = "dependant";
        } else {
          return;
        }
        members.push_back(std::move(m));
      });
  hooks.AddEffect("next_member", [](const DecideContext& c, const std::string&, json& data) {
    data["member"] = fmt::format("m{}", Members(c.state).size() + 1);
  });
  hooks.AddGuard("dependant_not_declared",
                 [](const DecideContext& c) -> std::optional<std::string> {
                   const std::string tax_code = c.command.payload.value("tax_code", "");
                   for (const auto& m : Members(c.state)) {
                     if (m.value("tax_code", "") == tax_code) {
                       return fmt::format(
                           "this fiscal code is already member {} of the "
                           "household; declare each dependant once",
                           m.value("member", ""));
                     }
                   }
                   return std::nullopt;
                 });
}

}  // namespace procedo::domain
