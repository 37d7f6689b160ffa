#include "adapters/web/enrolment_forms.h"

#include <fmt/format.h>

#include <algorithm>

#include "domain/services.h"
#include "engine/workflow/json_schema.h"

namespace procedo::web {
namespace {

using nlohmann::json;
using Kind = domain::EnrolmentProblem::Kind;

constexpr const char* kChoiceGuard = "services_offered";
constexpr const char* kAnswersGuard = "details_answer_questions";

bool Has(const CommandSpec& spec, const char* guard) {
  return std::find(spec.guards.begin(), spec.guards.end(), guard) != spec.guards.end();
}

const domain::TenantServices* CatalogueOf(const http::Api& api, const std::string& tenant) {
  return api.services != nullptr ? api.services->ForTenant(tenant) : nullptr;
}

// One question as a field: what schema_form renders for its type.
json QuestionField(const json& q, const std::string& title) {
  json p = {{"title", title}};
  if (q.contains("help")) p["description"] = q["help"];
  const std::string type = q.value("type", "text");
  if (type == "integer") {
    p["type"] = "integer";
    if (q.contains("min")) p["minimum"] = q["min"];
    if (q.contains("max")) p["maximum"] = q["max"];
  } else if (type == "boolean") {
    p["type"] = "boolean";
  } else if (type == "date") {
    p["type"] = "string";
    p["format"] = "date";
  } else if (type == "choice") {
    json values = json::array(), labels = json::array();
    for (const auto& c : q.value("choices", json::array())) {
      values.push_back(c["value"]);
      labels.push_back(c["label"]);
    }
    p["enum"] = std::move(values);
    p["enumNames"] = std::move(labels);
  } else {
    p["type"] = "string";
  }
  return p;
}

// Step 1: a box per service the Comune offers, and its sites as a choice.
json ChoiceSchema(json schema, const domain::TenantServices& c) {
  json boxes = {{"type", "object"},
                {"title", schema["properties"]["services"].value("title", "Servizi richiesti")},
                {"properties", json::object()}};
  for (const auto& s : c.services) {
    boxes["properties"][s.id] = {{"type", "boolean"}, {"title", s.name}};
  }
  json ids = json::array(), names = json::array();
  for (const auto& site : c.sites) {
    ids.push_back(site["id"]);
    const std::string name = site["name"].get<std::string>();
    names.push_back(site.contains("address")
                        ? fmt::format("{} ({})", name, site["address"].get<std::string>())
                        : name);
  }
  schema["properties"]["services"] = std::move(boxes);
  schema["properties"]["site"] = {
      {"title", schema["properties"]["site"].value("title", "Plesso")},
      {"description",
       "dove si svolgono i servizi scelti; per servizi di plessi diversi, una domanda per plesso"},
      {"enum", std::move(ids)},
      {"enumNames", std::move(names)}};
  return schema;
}

// Step 2: each chosen service's questions, under its name.
json AnswersSchema(json schema, const domain::TenantServices& c, const json& chosen) {
  json details = {{"type", "object"},
                  {"title", schema["properties"]["details"].value("title", "Dettagli")},
                  {"required", json::array()},
                  {"properties", json::object()}};
  for (const auto& id : chosen) {
    const domain::Service* s = id.is_string() ? c.Find(id.get<std::string>()) : nullptr;
    if (s == nullptr) continue;
    json answers = {{"type", "object"},
                    {"title", s->name},
                    {"required", json::array()},
                    {"properties", json::object()}};
    for (const auto& q : s->source["questions"]) {
      const std::string label = q["label"].get<std::string>();
      // The form shows all services' questions in one group: each says whose it is.
      answers["properties"][q["id"].get<std::string>()] =
          QuestionField(q, chosen.size() > 1 ? fmt::format("{}: {}", s->name, label) : label);
      if (q["required"].get<bool>()) answers["required"].push_back(q["id"]);
    }
    details["required"].push_back(s->id);
    details["properties"][s->id] = std::move(answers);
  }
  schema["properties"]["details"] = std::move(details);
  return schema;
}

}  // namespace

json FormSchema(const http::Api& api, const CommandSpec& spec, const std::string& tenant,
                const WorkflowState& state) {
  json schema = spec.payload->source();
  const domain::TenantServices* c = CatalogueOf(api, tenant);
  if (c == nullptr || !schema.contains("properties")) return schema;
  if (Has(spec, kChoiceGuard) && schema["properties"].contains("services")) {
    return ChoiceSchema(std::move(schema), *c);
  }
  if (Has(spec, kAnswersGuard) && schema["properties"].contains("details")) {
    return AnswersSchema(std::move(schema), *c, state.fields.value("services", json::array()));
  }
  return schema;
}

json FormPayload(const CommandSpec& spec, const json& schema, const FormValues& values) {
  json payload = PayloadOf(schema, values);
  if (Has(spec, kChoiceGuard) && payload.contains("services") && payload["services"].is_object()) {
    json ids = json::array();
    for (const auto& [id, chosen] : payload["services"].items()) {
      if (chosen == true) ids.push_back(id);
    }
    payload["services"] = std::move(ids);
  }
  return payload;
}

std::map<std::string, std::string> CatalogueErrors(const http::Api& api, const CommandSpec& spec,
                                                   const std::string& tenant,
                                                   const WorkflowState& state, const json& schema,
                                                   const json& payload) {
  std::map<std::string, std::string> out;
  const domain::TenantServices* c = CatalogueOf(api, tenant);
  if (Has(spec, kChoiceGuard)) {
    for (const auto& p : domain::CheckServiceChoice(
             c, tenant, payload.value("services", json::array()), payload.value("site", ""))) {
      if (p.kind != Kind::kSiteNotOffered) continue;
      const domain::Service* s = c != nullptr ? c->Find(p.service) : nullptr;
      out["site"] = fmt::format(
          "Il plesso scelto non offre «{}»: scegli un plesso dove si svolgono tutti i servizi "
          "richiesti, oppure presenta una domanda per plesso.",
          s != nullptr ? s->name : p.service);
    }
    return out;
  }
  if (!Has(spec, kAnswersGuard)) return out;
  // The domain's problems at their questions, said in Italian by the form's own sentences.
  json violations = json::array();
  for (const auto& p :
       domain::CheckEnrolmentDetails(c, tenant, state.fields.value("services", json::array()),
                                     payload.value("details", json::object()))) {
    if (p.field.empty()) continue;
    violations.push_back(
        {{"path", fmt::format("/details/{}/{}", p.service, p.field)}, {"message", p.message}});
  }
  out = ErrorsOf(schema, payload, violations);
  out.erase("");
  return out;
}

std::string SiteName(const http::Api& api, const std::string& tenant, const std::string& site) {
  const domain::TenantServices* c = CatalogueOf(api, tenant);
  if (c == nullptr || !c->sites.is_array()) return site;
  for (const auto& s : c->sites) {
    if (s.value("id", "") == site) return s.value("name", site);
  }
  return site;
}

std::vector<std::pair<std::string, std::string>> EnrolmentSummary(const http::Api& api,
                                                                  const WorkflowState& state) {
  std::vector<std::pair<std::string, std::string>> out;
  const json services = state.fields.value("services", json::array());
  if (!services.is_array() || !state.fields.contains("site")) return out;
  const domain::TenantServices* c = CatalogueOf(api, state.tenant);
  auto name_of = [c](const std::string& id) {
    const domain::Service* s = c != nullptr ? c->Find(id) : nullptr;
    return s != nullptr ? s->name : id;  // withdrawn since: its id is all there is
  };
  std::vector<std::string> names;
  for (const auto& s : services) {
    if (s.is_string()) names.push_back(name_of(s.get<std::string>()));
  }
  out.emplace_back("Servizi richiesti", fmt::format("{}", fmt::join(names, ", ")));
  out.emplace_back("Plesso", SiteName(api, state.tenant, state.fields.value("site", "")));
  const json numbers = state.fields.value("sequence_numbers", json::object());
  for (const auto& s : services) {
    if (!s.is_string() || !numbers.contains(s.get<std::string>())) continue;
    out.emplace_back(fmt::format("Progressivo per «{}»", name_of(s.get<std::string>())),
                     numbers[s.get<std::string>()].dump());
  }
  return out;
}

}  // namespace procedo::web
