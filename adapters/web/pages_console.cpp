// The console's work pages: a case (or application, or ticket) with its timeline and the
// commands its reader may run now, and the forms that start a new one. Reading goes through the
// API's own view functions and domain/access.h; every form is generated from the command's payload
// schema (schema_form.h; the enrolment's from the services catalogue, enrolment_forms.h) and sent
// through the one command path (adapters/command_service.h): this layer never appends and decides
// nothing.
#include <fmt/format.h>
#include <openssl/rand.h>

#include "adapters/command_service.h"
#include "adapters/web/console.h"
#include "adapters/web/enrolment_forms.h"
#include "adapters/web/schema_form.h"
#include "engine/base/url.h"
#include "engine/crypto/personal.h"
#include "engine/workflow/command_handler.h"

namespace procedo::web {

using nlohmann::json;

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) return "";
  std::string out;
  for (unsigned char c : b) out += fmt::format("{:02x}", c);
  return out;
}

std::string Text(const json& o, const char* k) {
  return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : "";
}

// A view function's answer as JSON, or nullopt (with the status) when it refused.
std::optional<json> ReadView(http::Response r, int* status) {
  *status = r.status;
  if (r.status != 200) return std::nullopt;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string CommandTitle(const CommandSpec& spec) {
  const json& s = spec.payload->source();
  if (s.contains("title") && s["title"].is_string()) return s["title"];
  std::string t = spec.name;
  for (char& c : t) c = c == '_' ? ' ' : c;
  return t;
}

// A new stream's id: its kind and the tenant, as every stream id names its owner.
std::string NewStreamId(const WorkflowDefinition& def, const Principal& who) {
  return fmt::format("{}-{}-{}", def.stream_kind, who.tenant, RandomHex(6));
}

namespace {

struct Outcome {
  std::string command;                        // the form the errors belong to
  FormValues values;                          // what was typed, shown again
  std::map<std::string, std::string> errors;  // by field; "" for the whole form
};

// What a refusal of the command path means to the person at the form (`schema`: the one it was
// generated from).
Outcome Explain(const Console& c, const CommandSpec& spec, const json& schema, const json& payload,
                const Problem& p, const std::string& kind, const WorkflowState& st,
                const std::string& tenant) {
  Outcome o;
  o.command = spec.name;
  const std::string& state = st.status;
  if (p.type == "payload-invalid") {
    o.errors = ErrorsOf(schema, payload, p.extra.value("violations", json::array()));
  } else if (p.type == "guard-refused") {
    o.errors = CatalogueErrors(c.api, spec, tenant, st, schema, payload);
    const std::string guard = p.extra.value("guard", "");
    std::string text = c.Label("guards", guard);
    o.errors[""] = text == guard ? "Una regola del procedimento non consente l'operazione: "
                                   "controlla i dati della pratica."
                                 : text;
  } else if (p.type == "already-present") {
    o.errors[""] =
        "Quello che stai inserendo è già registrato (ad esempio un figlio a carico già dichiarato "
        "con questo codice fiscale): non serve inserirlo di nuovo.";
  } else if (p.type == "not-allowed-in-state") {
    o.errors[""] = fmt::format(
        "Questa operazione non è possibile nello stato attuale ({}): la pagina mostra ora le "
        "operazioni possibili.",
        c.StateLabel(kind, state));
  } else if (p.type == "version-conflict") {
    o.errors[""] =
        "Qualcun altro ha modificato la pratica mentre compilavi il modulo: controlla la "
        "cronologia aggiornata e invia di nuovo.";
  } else if (p.status == 403) {
    o.errors[""] = "Il tuo ruolo non consente questa operazione su questa pratica.";
  } else {
    o.errors[""] = "Non è stato possibile completare l'operazione. Riprova tra qualche minuto.";
  }
  return o;
}

json FormFor(const std::string& stream, const CommandSpec& spec, const json& schema,
             uint64_t version, const std::string& action, const Outcome* o) {
  const bool mine = o != nullptr && o->command == spec.name;
  json f = FormOf(schema, spec.name, mine ? o->values : FormValues{},
                  mine ? o->errors : std::map<std::string, std::string>{});
  f["command"] = spec.name;
  f["title"] = CommandTitle(spec);
  f["action"] = action;
  f["stream"] = stream;
  f["version"] = std::to_string(version);
  f["key"] = RandomHex(16);  // idempotency: the same form sent twice runs once
  f["open"] = mine;
  return f;
}

// The stream's workflow and state, or an error page. `state` stays empty for a new stream.
struct Loaded {
  const WorkflowDefinition* def = nullptr;
  WorkflowState state;
};

std::optional<Loaded> Load(const Console& c, const std::string& stream) {
  if (c.api.workflows == nullptr || c.api.commands == nullptr) return std::nullopt;
  Loaded l;
  l.def = c.api.workflows->ForStream(stream);
  if (l.def == nullptr) return std::nullopt;
  auto s = c.api.commands->Load(stream);
  if (!s.ok()) return std::nullopt;
  l.state = **s;
  l.state.stream = stream;
  // Staff read the people of what they handle in clear, as in the case view.
  if (c.api.personal != nullptr) c.api.personal->ShowAll(l.state.fields);
  return l;
}

http::Response NotFound(const Console& c, const http::Request& req, const StaffSession* who) {
  return c.Error(404, "Pratica non trovata",
                 "Non esiste una pratica con questo identificativo tra quelle che puoi vedere. "
                 "Torna agli elenchi e aprila da lì.",
                 req, who);
}

// Seed 004's knowledge base where it helps: while a ticket is being worked on, the solved tickets
// most like it (the help desk's roles only; for anyone else the section is not there).
void AddSimilarTickets(const Console& c, const StaffSession& s, const std::string& stream,
                       const std::string& state, json& d) {
  if (state == "resolved" || state == "closed" || state == "archived") return;
  http::Request q;
  q.params["ticket"] = stream;
  q.query["limit"] = "5";
  int code = 0;
  auto found = ReadView(http::KbSimilarFor(c.api, s.who, q), &code);
  if (!found) return;
  json similar = json::array();
  for (const json& r : found->value("results", json::array())) {
    similar.push_back(
        {{"number", Text(r, "number").empty() ? Text(r, "stream") : Text(r, "number")},
         {"subject", Text(r, "subject")},
         {"snippet", Text(r, "snippet")},
         {"closed", c.Local(Text(r, "closed_at"))}});
  }
  d["show_similar"] = true;
  d["similar"] = similar;
  d["has_similar"] = !similar.empty();
}

http::Response ShowCase(const Console& c, const http::Request& in, const StaffSession& s,
                        const Outcome* outcome = nullptr, int status = 200) {
  const std::string stream = in.params.at("id");
  http::Request q;
  q.params["id"] = stream;
  if (auto after = in.Query("dopo")) q.query["min_position"] = *after;
  int code = 0;
  auto view = ReadView(http::CaseViewFor(c.api, s.who, q), &code);
  if (!view) {
    if (code == 404 || code == 400) return NotFound(c, in, &s);
    return c.Error(503, "Servizio momentaneamente non disponibile",
                   "Non è stato possibile leggere la pratica. Riprova tra qualche minuto.", in, &s);
  }
  auto loaded = Load(c, stream);
  if (!loaded || !loaded->state.exists()) return NotFound(c, in, &s);
  const std::string kind = loaded->def->stream_kind;
  const json fields = view->value("fields", json::object());
  json d = {{"stream", stream},
            {"kind", c.Label("kinds", kind)},
            {"state", c.StateLabel(kind, loaded->state.status)},
            {"code", Text(*view, "case_code").empty() ? stream : Text(*view, "case_code")},
            {"audit", "/console/pratiche/" + UrlEncode(stream) + "/registro"}};
  if (kind == "payment") d["notice_href"] = "/console/pagamenti/" + UrlEncode(stream) + "/avviso";
  json facts = json::array();
  auto fact = [&facts](const std::string& name, const std::string& value) {
    if (!value.empty()) facts.push_back({{"name", name}, {"value", value}});
  };
  fact("Procedimento", Text(view->value("procedure", json::object()), "name"));
  fact("Oggetto",
       Text(*view, "subject").empty() ? Text(fields, "subject") : Text(*view, "subject"));
  fact("Richiedente", Text(view->value("applicant", json::object()), "name").empty()
                          ? Text(fields, "applicant_name")
                          : Text(view->value("applicant", json::object()), "name"));
  fact("Ente", c.TenantName(loaded->state.tenant));
  for (const auto& [name, value] : EnrolmentSummary(c.api, loaded->state)) fact(name, value);
  if (!Text(loaded->state.fields, "submitted_at").empty()) {
    fact("Presentata il", c.Local(Text(loaded->state.fields, "submitted_at")));
  }
  if (!Text(*view, "forwarded_to").empty())
    fact("Inviata a", c.TenantName(Text(*view, "forwarded_to")));
  fact("Tecnico", Text(fields, "technician_name"));
  fact("Termine", Text(view->value("term", json::object()), "text"));
  if (!Text(*view, "deadline").empty())
    fact("Scadenza del termine", c.Local(Text(*view, "deadline")));
  if (!Text(*view, "deadline_before_suspension").empty()) {
    fact("Termine sospeso; prima della sospensione scadeva il",
         c.Local(Text(*view, "deadline_before_suspension")));
  }
  d["facts"] = facts;
  json timeline = json::array();
  for (const json& e : view->value("timeline", json::array())) {
    json entry = {
        {"at", c.Local(Text(e, "time"))},
        {"label", c.Label("events", Text(e, "type"))},
        {"who", fmt::format("{} ({})", Text(e, "actor"), c.Label("roles", Text(e, "role")))}};
    const json details = e.value("details", json::object());
    for (const char* k : {"reason", "note", "text", "question", "answer", "solution", "corrections",
                          "return_reason"}) {
      if (!Text(details, k).empty()) {
        entry["detail"] = Text(details, k);
        break;
      }
    }
    timeline.push_back(std::move(entry));
  }
  d["timeline"] = timeline;
  if (kind == "ticket") AddSimilarTickets(c, s, stream, loaded->state.status, d);
  json forms = json::array();
  for (const auto& name :
       domain::CommandsOffered(*loaded->def, loaded->state, s.who, c.api.clock.Now())) {
    const CommandSpec& spec = loaded->def->commands.at(name);
    if (spec.initial && spec.from.empty()) continue;
    json f = FormFor(stream, spec, FormSchema(c.api, spec, loaded->state.tenant, loaded->state),
                     loaded->state.version,
                     fmt::format("/console/pratiche/{}/{}", UrlEncode(stream), name), outcome);
    if (f["complete"].get<bool>()) forms.push_back(std::move(f));
  }
  d["forms"] = forms;
  d["has_forms"] = !forms.empty();
  if (auto done = in.Query("esito"); done && loaded->def->commands.count(*done)) {
    d["notice"] = fmt::format("Fatto: «{}» è stato registrato.",
                              CommandTitle(loaded->def->commands.at(*done)));
  }
  return c.Page(status, "console_case",
                fmt::format("{} {}", d["kind"].get<std::string>(), d["code"].get<std::string>()), d,
                in, &s);
}

// Runs the posted form's command as the signed-in person; 303 to `done` with the log position,
// or nullopt with `outcome` set to what to show next to the form.
std::optional<http::Response> Run(const Console& c, const StaffSession& s, const CommandSpec& spec,
                                  const std::string& stream, const FormValues& form,
                                  const std::string& kind, const WorkflowState& st,
                                  const std::string& tenant, const std::string& done,
                                  Outcome* outcome, int* status) {
  const json schema = FormSchema(c.api, spec, tenant, st);
  if (FormValues edited = form; EditRows(schema, &edited)) {
    // A row added or removed: the same form again, with what was typed, and nothing sent.
    outcome->command = spec.name;
    outcome->values = std::move(edited);
    *status = 200;
    return std::nullopt;
  }
  Command cmd;
  cmd.stream = stream;
  cmd.name = spec.name;
  cmd.payload = FormPayload(spec, schema, form);
  if (auto k = form.find("chiave"); k != form.end() && !k->second.empty()) {
    cmd.idempotency_key = "console-" + k->second;
  }
  if (auto v = form.find("versione"); v != form.end() && !v->second.empty()) {
    cmd.expected_version = std::strtoull(v->second.c_str(), nullptr, 10);
  }
  CommandReply reply = c.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("{}?esito={}&dopo={}", done, spec.name,
                                reply.body.value("position", uint64_t{0})));
  }
  *outcome = Explain(c, spec, schema, cmd.payload, *reply.problem, kind, st, tenant);
  outcome->values = form;
  *status = reply.problem->status >= 500 ? 503 : reply.problem->status;
  return std::nullopt;
}

http::Response DoCommand(const Console& c, const http::Request& req, const StaffSession& s) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return c.Forbidden(req, &s);
  const std::string stream = req.params.at("id");
  auto loaded = Load(c, stream);
  if (!loaded || !loaded->state.exists() || c.api.command_service == nullptr) {
    return NotFound(c, req, &s);
  }
  auto it = loaded->def->commands.find(req.params.at("command"));
  if (it == loaded->def->commands.end()) return NotFound(c, req, &s);
  Outcome outcome;
  int status = 422;
  if (auto r =
          Run(c, s, it->second, stream, *form, loaded->def->stream_kind, loaded->state,
              loaded->state.tenant, "/console/pratiche/" + UrlEncode(stream), &outcome, &status)) {
    return *r;
  }
  if (status == 404) return NotFound(c, req, &s);
  return ShowCase(c, req, s, &outcome, status);
}

http::Response ShowNew(const Console& c, const http::Request& req, const StaffSession& s,
                       const Outcome* outcome = nullptr, int status = 200) {
  const WorkflowDefinition* def =
      c.api.workflows ? c.api.workflows->ById(req.params.at("workflow")) : nullptr;
  if (def == nullptr || s.who.tenant.empty()) return NotFound(c, req, &s);
  WorkflowState fresh;
  fresh.stream = NewStreamId(*def, s.who);
  const std::string name = req.params.at("command");
  auto offered = domain::CommandsOffered(*def, fresh, s.who, c.api.clock.Now());
  if (std::find(offered.begin(), offered.end(), name) == offered.end()) return NotFound(c, req, &s);
  const CommandSpec& spec = def->commands.at(name);
  json f = FormFor(fresh.stream, spec, FormSchema(c.api, spec, s.who.tenant, fresh), 0,
                   fmt::format("/console/nuova/{}/{}", def->id, name), outcome);
  f["open"] = true;
  json d = {{"form", f}, {"kind", c.Label("kinds", def->stream_kind)}};
  return c.Page(status, "console_new", CommandTitle(spec), d, req, &s);
}

http::Response DoNew(const Console& c, const http::Request& req, const StaffSession& s) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return c.Forbidden(req, &s);
  const WorkflowDefinition* def =
      c.api.workflows ? c.api.workflows->ById(req.params.at("workflow")) : nullptr;
  if (def == nullptr || s.who.tenant.empty() || c.api.command_service == nullptr) {
    return NotFound(c, req, &s);
  }
  auto it = def->commands.find(req.params.at("command"));
  if (it == def->commands.end() || !it->second.initial) return NotFound(c, req, &s);
  // The id the form was given, if it is one of this person's tenant; the command path decides
  // the rest (a stream that exists already is refused).
  std::string stream = (*form)["flusso"];
  const std::string prefix = fmt::format("{}-{}-", def->stream_kind, s.who.tenant);
  if (stream.rfind(prefix, 0) != 0) stream = NewStreamId(*def, s.who);
  (*form).erase("versione");
  Outcome outcome;
  int status = 422;
  if (auto r = Run(c, s, it->second, stream, *form, def->stream_kind, WorkflowState{}, s.who.tenant,
                   "/console/pratiche/" + UrlEncode(stream), &outcome, &status)) {
    return *r;
  }
  return ShowNew(c, req, s, &outcome, status == 404 ? 422 : status);
}

}  // namespace

http::Handler StaffPage(std::shared_ptr<Console> console, ConsoleHandler handler) {
  return [console, handler](http::Request& req) {
    try {
      auto s = console->Session(req);
      if (!s) {
        // A cookie that no longer opens a session: it expired (or the server restarted).
        return Cookie(req, kConsoleSession).empty() ? SeeOther("/console/accesso")
                                                    : console->SignInAgain();
      }
      return handler(*console, req, *s);
    } catch (const std::exception&) {
      return console->Error(500, "Errore del servizio",
                            "Si è verificato un errore imprevisto. Riprova tra qualche minuto.",
                            req, nullptr);
    }
  };
}

void AddWorkPages(http::Router& router, std::shared_ptr<Console> console) {
  auto page = [console](ConsoleHandler handler) { return StaffPage(console, handler); };
  router.Add("GET", "/console", page(&ShowHome), /*blocking=*/true);
  router.Add("GET", "/console/pratiche/{id}",
             page([](const Console& c, const http::Request& r, const StaffSession& s) {
               return ShowCase(c, r, s);
             }),
             /*blocking=*/true);
  router.Add("POST", "/console/pratiche/{id}/{command}", page(&DoCommand), /*blocking=*/true);
  router.Add("GET", "/console/pratiche/{id}/registro", page(&ShowAudit), /*blocking=*/true);
  router.Add("GET", "/console/nuova/{workflow}/{command}",
             page([](const Console& c, const http::Request& r, const StaffSession& s) {
               return ShowNew(c, r, s);
             }),
             /*blocking=*/true);
  router.Add("POST", "/console/nuova/{workflow}/{command}", page(&DoNew), /*blocking=*/true);
  router.Add("GET", "/console/{page}",
             page([](const Console& c, const http::Request& r, const StaffSession& s) {
               return c.Error(404, "Pagina non trovata",
                              "La pagina richiesta non esiste. Torna agli elenchi di lavoro.", r,
                              &s);
             }));
}

}  // namespace procedo::web
