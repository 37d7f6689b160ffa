// A citizen's application for on-demand services on the portal (seed 003, "Iscrizioni on line"):
// step 1 (beneficiary, services, site) and step 2 (the details each chosen service asks for) as
// forms generated from the catalogue, presenting it, and the summary with the sequence number of
// each service and the date and time of presentation, laid out for printing. Every step is the
// enrolment workflow's command, as the citizen, through the one command path; the forms and
// their Italian errors are the console's (enrolment_forms.h, schema_form.h).
#include <fmt/format.h>

#include "adapters/command_service.h"
#include "adapters/web/console.h"
#include "adapters/web/enrolment_forms.h"
#include "adapters/web/portal.h"
#include "engine/base/url.h"
#include "engine/crypto/personal.h"
#include "engine/workflow/command_handler.h"
#include "projections/views/applications.h"

namespace procedo::web {

using nlohmann::json;

namespace {

constexpr const char* kStart = "start_enrolment";
constexpr const char* kDetails = "complete_details";
constexpr const char* kSubmit = "submit_enrolment";

const WorkflowDefinition* Enrolments(const Portal& p) {
  return p.api.workflows != nullptr ? p.api.workflows->ById("service_enrolment") : nullptr;
}

// The citizen's form of a step: the channel is the portal's, never typed.
json CitizenSchema(const Portal& p, const CommandSpec& spec, const std::string& tenant,
                   const WorkflowState& state) {
  json schema = FormSchema(p.api, spec, tenant, state);
  if (schema.contains("properties")) {
    schema["properties"].erase("channel");
    // The household's stream and member are the office's to link (the demographic register or
    // a household declared at the counter).
    schema["properties"].erase("household");
  }
  if (schema.contains("required") && schema["required"].is_array()) {
    json required = json::array();
    for (const auto& r : schema["required"]) {
      if (r != "channel" && r != "household") required.push_back(r);
    }
    schema["required"] = required;
  }
  return schema;
}

struct Outcome {
  std::string command;
  FormValues values;
  std::map<std::string, std::string> errors;
};

json StepForm(const std::string& stream, const CommandSpec& spec, const json& schema,
              uint64_t version, const Outcome* o) {
  const bool mine = o != nullptr && o->command == spec.name;
  json f = FormOf(schema, spec.name, mine ? o->values : FormValues{},
                  mine ? o->errors : std::map<std::string, std::string>{});
  f["command"] = spec.name;
  f["title"] = CommandTitle(spec);
  f["action"] = spec.name == kStart
                    ? "/servizi/iscrizioni/nuova"
                    : fmt::format("/servizi/iscrizioni/{}/{}", UrlEncode(stream), spec.name);
  f["stream"] = stream;
  f["version"] = version == 0 ? "" : std::to_string(version);
  f["key"] = RandomHex(16);
  if (mine && o->errors.count("")) f["error"] = o->errors.at("");
  return f;
}

// What a refusal means to the person at the form.
Outcome Explain(const Portal& p, const CommandSpec& spec, const json& schema, const json& payload,
                const Problem& problem, const WorkflowState& state, const std::string& tenant) {
  Outcome o;
  o.command = spec.name;
  if (problem.type == "payload-invalid") {
    o.errors = ErrorsOf(schema, payload, problem.extra.value("violations", json::array()));
  } else if (problem.type == "guard-refused") {
    o.errors = CatalogueErrors(p.api, spec, tenant, state, schema, payload);
    const std::string guard = problem.extra.value("guard", "");
    const std::string text = p.Label("guards", guard);
    o.errors[""] = text != guard ? text
                                 : "Una regola del servizio non consente l'operazione: "
                                   "controlla i dati della domanda.";
  } else if (problem.type == "version-conflict" || problem.type == "not-allowed-in-state") {
    o.errors[""] =
        "La domanda è cambiata mentre compilavi il modulo: la pagina mostra ora il suo stato "
        "aggiornato.";
  } else {
    o.errors[""] = "Non è stato possibile completare l'operazione. Riprova tra qualche minuto.";
  }
  return o;
}

// The application as the citizen may see it: nullopt when it does not exist or is not theirs.
std::optional<WorkflowState> Application(const Portal& p, const StaffSession& s,
                                         const std::string& stream) {
  if (!stream.starts_with("enrolment-") || !ValidateStreamId(stream).ok() ||
      p.api.commands == nullptr || !http::MayRead(p.api, s.who, stream)) {
    return std::nullopt;
  }
  auto st = p.api.commands->Load(stream);
  if (!st.ok() || !(*st)->exists()) return std::nullopt;
  WorkflowState state = **st;
  state.stream = stream;
  // Shown to the applicant who made it: the personal values opened, or erased.
  if (p.api.personal != nullptr) p.api.personal->ShowAll(state.fields);
  return state;
}

http::Response ShowNew(const Portal& p, const http::Request& req, const StaffSession& s,
                       const Outcome* o = nullptr, int status = 200,
                       const std::string& stream = "") {
  const WorkflowDefinition* def = Enrolments(p);
  if (def == nullptr || !def->commands.count(kStart)) return p.NotFound(req, &s);
  WorkflowState fresh;
  fresh.stream = stream.empty() ? NewStreamId(*def, s.who) : stream;
  const CommandSpec& spec = def->commands.at(kStart);
  json d = {
      {"step", 1},
      {"form", StepForm(fresh.stream, spec, CitizenSchema(p, spec, s.who.tenant, fresh), 0, o)}};
  return p.Page(status, "portal_enrolment", "Nuova domanda di iscrizione", d, req, &s);
}

http::Response ShowApplication(const Portal& p, const http::Request& req, const StaffSession& s,
                               const Outcome* o = nullptr, int status = 200,
                               const std::string& fee_error = "") {
  const std::string stream = req.params.at("id");
  auto state = Application(p, s, stream);
  const WorkflowDefinition* def = Enrolments(p);
  if (!state || def == nullptr) return p.NotFound(req, &s);
  json d = {{"stream", stream},
            {"state", p.Label("states", state->status, "enrolment")},
            {"submitted", state->status == "submitted"}};
  json summary = json::array({{{"name", "Ente"}, {"value", p.TenantName(state->tenant)}}});
  const json beneficiary = state->fields.value("beneficiary", json::object());
  if (beneficiary.is_object() && beneficiary.contains("name")) {
    summary.push_back({{"name", "Fruitore"}, {"value", beneficiary.value("name", "")}});
  }
  for (const auto& [name, value] : EnrolmentSummary(p.api, *state)) {
    summary.push_back({{"name", name}, {"value", value}});
  }
  if (state->fields.contains("submitted_at")) {
    summary.push_back(
        {{"name", "Presentata il"}, {"value", p.Local(state->fields.value("submitted_at", ""))}});
  }
  d["summary"] = summary;
  json outcomes = json::array();
  const json reached = state->derived.value("enrolment_outcomes", json::object());
  for (const auto& [service, out] : reached.items()) {
    outcomes.push_back({{"service", service},
                        {"outcome", p.Label("outcomes", out.value("outcome", ""))},
                        {"reason", out.value("reason", "")}});
  }
  d["outcomes"] = outcomes;
  d["has_outcomes"] = !outcomes.empty();
  json forms = json::array();
  for (const char* name : {kDetails, kSubmit}) {
    auto it = def->commands.find(name);
    if (it == def->commands.end()) continue;
    const auto& from = it->second.from;
    if (std::find(from.begin(), from.end(), state->status) == from.end()) continue;
    forms.push_back(StepForm(stream, it->second,
                             CitizenSchema(p, it->second, state->tenant, *state), state->version,
                             o));
  }
  d["forms"] = forms;
  d["fee"] = ApplicationFee(p, s, *state, fee_error);
  d["step"] = state->status == "draft" ? 2 : 3;
  if (req.Query("esito").value_or("") == kSubmit) {
    d["notice"] = "La domanda è stata presentata. Conserva questo riepilogo: puoi stamparlo.";
  }
  return p.Page(status, "portal_enrolment", "La tua domanda di iscrizione", d, req, &s);
}

// Runs a step as the citizen; 303 to the application on success.
http::Response Run(const Portal& p, const http::Request& req, const StaffSession& s,
                   const std::string& name) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return p.Forbidden(req, &s);
  const WorkflowDefinition* def = Enrolments(p);
  if (def == nullptr || p.api.command_service == nullptr || !def->commands.count(name)) {
    return p.NotFound(req, &s);
  }
  const CommandSpec& spec = def->commands.at(name);
  WorkflowState state;
  std::string stream;
  if (name == kStart) {
    stream = form->count("flusso") ? form->at("flusso") : "";
    // The id the form was given names the citizen's Ente: anything else is no new application.
    if (!stream.starts_with(fmt::format("enrolment-{}-", s.who.tenant)) ||
        !ValidateStreamId(stream).ok()) {
      return p.Forbidden(req, &s);
    }
  } else {
    stream = req.params.at("id");
    auto loaded = Application(p, s, stream);
    if (!loaded) return p.NotFound(req, &s);
    state = *loaded;
  }
  const json schema = CitizenSchema(p, spec, name == kStart ? s.who.tenant : state.tenant, state);
  Command cmd;
  cmd.stream = stream;
  cmd.name = name;
  cmd.payload = FormPayload(spec, schema, *form);
  if (name == kStart) cmd.payload["channel"] = "online";
  if (auto k = form->find("chiave"); k != form->end() && !k->second.empty()) {
    cmd.idempotency_key = "portal-" + k->second;
  }
  if (auto v = form->find("versione"); v != form->end() && !v->second.empty()) {
    cmd.expected_version = std::strtoull(v->second.c_str(), nullptr, 10);
  }
  CommandReply reply = p.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("/servizi/iscrizioni/{}?esito={}&dopo={}", UrlEncode(stream), name,
                                reply.body.value("position", uint64_t{0})));
  }
  const Problem& problem = *reply.problem;
  if (problem.status == 404 || problem.status == 403) return p.NotFound(req, &s);
  Outcome o = Explain(p, spec, schema, cmd.payload, problem, state,
                      name == kStart ? s.who.tenant : state.tenant);
  o.values = *form;
  const int status = problem.status >= 500 ? 503 : problem.status;
  if (name == kStart) return ShowNew(p, req, s, &o, status, stream);
  http::Request again = req;
  again.params["id"] = stream;
  return ShowApplication(p, again, s, &o, status);
}

}  // namespace

http::Response ShowApplicationWithFeeError(const Portal& p, const http::Request& req,
                                           const StaffSession& s, const std::string& error,
                                           int status) {
  return ShowApplication(p, req, s, nullptr, status, error);
}

json ApplicationsOf(const Portal& p, const StaffSession& s) {
  json out = json::array();
  if (p.api.views == nullptr) return out;
  using projections::ApplicationsProjection;
  const std::string prefix = ApplicationsProjection::RequesterPrefix(s.who.tenant, s.who.id);
  auto rows = p.api.views->Scan(ApplicationsProjection::kName, prefix, "", 100);
  if (!rows.ok()) return out;
  for (const auto& row : *rows) {
    json a = json::parse(row.value, nullptr, false);
    if (a.is_discarded()) continue;
    std::vector<std::string> outcomes;
    const json reached = a.value("outcomes", json::object());
    for (const auto& [service, o] : reached.items()) {
      outcomes.push_back(p.Label("outcomes", o.value("outcome", "")));
    }
    out.push_back({{"href", "/servizi/iscrizioni/" + UrlEncode(a.value("stream", ""))},
                   {"beneficiary", a.value("beneficiary_name", "")},
                   {"state", p.Label("states", a.value("state", ""), "enrolment")},
                   {"started", p.Local(a.value("started_at", ""))},
                   {"outcomes", fmt::format("{}", fmt::join(outcomes, ", "))}});
  }
  return out;
}

void AddPortalEnrolmentPages(http::Router& router, std::shared_ptr<Portal> portal) {
  AddPageRoute(router, "/servizi/iscrizioni/nuova",
               PortalPage(portal, [](const Portal& p, const http::Request& req,
                                     const StaffSession& s) { return ShowNew(p, req, s); }),
               /*blocking=*/true);
  router.Add("POST", "/servizi/iscrizioni/nuova",
             PortalPage(portal, [](const Portal& p, const http::Request& req,
                                   const StaffSession& s) { return Run(p, req, s, kStart); }),
             /*blocking=*/true);
  AddPageRoute(router, "/servizi/iscrizioni/{id}",
               PortalPage(portal, [](const Portal& p, const http::Request& req,
                                     const StaffSession& s) { return ShowApplication(p, req, s); }),
               /*blocking=*/true);
  for (const char* name : {kDetails, kSubmit}) {
    router.Add(
        "POST", fmt::format("/servizi/iscrizioni/{{id}}/{}", name),
        PortalPage(
            portal,
            name == std::string(kDetails)
                ? PortalHandler([](const Portal& p, const http::Request& req,
                                   const StaffSession& s) { return Run(p, req, s, kDetails); })
                : PortalHandler([](const Portal& p, const http::Request& req,
                                   const StaffSession& s) { return Run(p, req, s, kSubmit); })),
        /*blocking=*/true);
  }
}

}  // namespace procedo::web
