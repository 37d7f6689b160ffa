// Service closures in the console (seed 004, "sospensione per ferie"): the closures announced on
// one tenant's calendar, a form that announces one and a button that cancels each. Both send the
// calendar workflow's commands (domain/workflows/calendar.json) through the one command path,
// with a CSRF token, the calendar stream's version the page showed and an idempotency key; who
// may is the workflow's and domain/access.h's (CommandsOffered), and why a closure is refused is
// domain/closures.h's JudgeClosure, said here in Italian.
#include <fmt/format.h>

#include "adapters/command_service.h"
#include "adapters/web/console.h"
#include "adapters/web/schema_form.h"
#include "domain/calendars.h"
#include "domain/closures.h"
#include "engine/base/url.h"
#include "engine/workflow/command_handler.h"

namespace procedo::web {

using nlohmann::json;

namespace {

struct Calendar {
  std::string tenant, calendar, stream;
  const WorkflowDefinition* def = nullptr;
  WorkflowState state;
};

// The tenant and calendar the page is about: the query's (or the form's), else the person's own
// tenant and the help desk's calendar.
std::optional<Calendar> Choose(const Console& c, const StaffSession& s,
                               const std::map<std::string, std::string>& asked) {
  if (c.api.calendars == nullptr || c.api.commands == nullptr || c.api.workflows == nullptr) {
    return std::nullopt;
  }
  Calendar cal;
  auto get = [&asked](const char* k) {
    auto it = asked.find(k);
    return it == asked.end() ? std::string() : it->second;
  };
  cal.tenant = get("ente");
  if (cal.tenant.empty()) cal.tenant = s.who.tenant;
  if (cal.tenant.empty()) {
    auto all = c.api.calendars->Tenants();
    if (!all.empty()) cal.tenant = all.front().id;
  }
  cal.calendar = get("calendario").empty() ? "helpdesk" : get("calendario");
  if (c.api.calendars->FindTenant(cal.tenant) == nullptr ||
      c.api.calendars->Find(cal.calendar) == nullptr) {
    return std::nullopt;
  }
  cal.stream = domain::CalendarStream(cal.tenant, cal.calendar);
  cal.def = c.api.workflows->ForStream(cal.stream);
  if (cal.def == nullptr) return std::nullopt;
  auto st = c.api.commands->Load(cal.stream);
  if (!st.ok()) return std::nullopt;
  cal.state = **st;
  cal.state.stream = cal.stream;
  if (cal.state.tenant.empty()) cal.state.tenant = cal.tenant;
  return cal;
}

bool Offered(const Console& c, const StaffSession& s, const Calendar& cal,
             const std::string& command) {
  auto offered = domain::CommandsOffered(*cal.def, cal.state, s.who, c.api.clock.Now());
  return std::find(offered.begin(), offered.end(), command) != offered.end();
}

std::string DateIt(std::chrono::year_month_day d) {
  return ItalianDate(domain::FormatDate(d));
}

// Seed 004's rule said to the person who asked for the closure.
std::string Explain(const domain::ClosureRefusal& r) {
  using R = domain::ClosureRefusal::Reason;
  switch (r.reason) {
    case R::kNoId:
    case R::kIdInUse:
      return "Questa chiusura è già stata annunciata: ricarica la pagina per vederla "
             "nell'elenco.";
    case R::kNotARange:
      return "L'ultimo giorno di chiusura non può precedere il primo: correggi le date.";
    case R::kLongerThanAYear:
      return "Una chiusura non può durare più di un anno: correggi le date.";
    case R::kTooLittleNotice:
      return fmt::format(
          "Troppo tardi: le chiusure vanno annunciate almeno {} giorni prima del primo giorno "
          "di chiusura. Oggi è il {}, la chiusura inizierebbe il {}: il primo giorno che si può "
          "ancora chiudere è il {}.",
          r.min_notice_days, DateIt(r.announced), DateIt(r.first_day), DateIt(r.first_possible));
    case R::kOverBudget:
      return fmt::format(
          "Si possono chiudere al massimo {} giorni lavorativi all'anno: nel {} ne sono già "
          "chiusi {} e questa chiusura ne aggiungerebbe {}, {} in tutto. Riduci le date o "
          "annulla prima un'altra chiusura.",
          r.max_per_year, r.year, r.already, r.added, r.already + r.added);
  }
  return "";
}

// The announce form's schema, with the Italian labels its fields and errors use.
json AnnounceSchema(const WorkflowDefinition& def) {
  json s = def.commands.at("announce_closure").payload->source();
  s["properties"]["from"]["title"] = "Primo giorno di chiusura";
  s["properties"]["from"]["format"] = "date";
  s["properties"]["to"]["title"] = "Ultimo giorno di chiusura";
  s["properties"]["to"]["format"] = "date";
  s["properties"]["reason"]["title"] = "Motivo";
  s["properties"]["reason"]["description"] =
      "Lo leggono gli utenti dei ticket aperti, avvisati per e-mail.";
  for (const char* hidden : {"calendar", "tenant", "closure_id"}) s["properties"].erase(hidden);
  s["required"] = json::array({"from", "to", "reason"});
  return s;
}

struct Outcome {
  FormValues values;
  std::map<std::string, std::string> errors;
  std::string cancel_error;
};

http::Response Show(const Console& c, const http::Request& req, const StaffSession& s,
                    const std::map<std::string, std::string>& asked, const Outcome* o = nullptr,
                    int status = 200) {
  auto cal = Choose(c, s, asked);
  if (!cal) {
    return c.Error(404, "Calendario non trovato",
                   "L'ente o il calendario indicati non esistono. Torna alla pagina delle "
                   "chiusure e sceglili dall'elenco.",
                   req, &s);
  }
  if (!Offered(c, s, *cal, "announce_closure")) {
    return c.Error(403, "Operazione non consentita",
                   "Annunciare e annullare le chiusure del servizio spetta agli amministratori.",
                   req, &s);
  }
  json tenants = json::array();
  for (const auto& t : c.api.calendars->Tenants()) {
    tenants.push_back({{"id", t.id}, {"name", t.name}, {"selected", t.id == cal->tenant}});
  }
  json calendars = json::array();
  for (const auto& id : c.api.calendars->Ids()) {
    calendars.push_back(
        {{"id", id}, {"name", c.Label("calendars", id)}, {"selected", id == cal->calendar}});
  }
  auto closures = domain::ClosuresOf(cal->state);
  std::sort(closures.begin(), closures.end(),
            [](const Closure& a, const Closure& b) { return a.from < b.from; });
  json rows = json::array();
  for (const auto& cl : closures) {
    rows.push_back({{"id", cl.id},
                    {"from", DateIt(cl.from)},
                    {"to", DateIt(cl.to)},
                    {"reason", cl.reason},
                    {"key", RandomHex(16)}});
  }
  json form = FormOf(AnnounceSchema(*cal->def), "chiusura", o ? o->values : FormValues{},
                     o ? o->errors : std::map<std::string, std::string>{});
  form["command"] = "announce_closure";
  form["title"] = "Annuncia la chiusura";
  form["action"] = "/console/chiusure/annuncia";
  form["stream"] = cal->stream;
  form["version"] = std::to_string(cal->state.version);
  form["key"] = RandomHex(16);
  form["hidden"] = json::array({json{{"name", "ente"}, {"value", cal->tenant}},
                                json{{"name", "calendario"}, {"value", cal->calendar}}});
  json d = {{"tenant", cal->tenant},
            {"tenant_name", c.TenantName(cal->tenant)},
            {"calendar", cal->calendar},
            {"calendar_name", c.Label("calendars", cal->calendar)},
            {"tenants", tenants},
            {"calendars", calendars},
            {"rows", rows},
            {"empty", rows.empty()},
            {"version", std::to_string(cal->state.version)},
            {"form", form},
            {"cancel_error", o && !o->cancel_error.empty() ? json(o->cancel_error) : json(false)},
            {"may_cancel", Offered(c, s, *cal, "cancel_closure")}};
  static const std::map<std::string, std::string> kDone = {
      {"annunciata", "Fatto: la chiusura è stata annunciata e ferma i termini dei suoi giorni."},
      {"annullata", "Fatto: la chiusura è stata annullata; i suoi giorni tornano lavorativi."}};
  if (auto it = kDone.find(req.Query("esito").value_or("")); it != kDone.end()) {
    d["notice"] = it->second;
  }
  return c.Page(status, "console_closures", "Chiusure del servizio", d, req, &s);
}

http::Response ShowPage(const Console& c, const http::Request& req, const StaffSession& s) {
  return Show(c, req, s, req.query);
}

http::Response Send(const Console& c, const http::Request& req, const StaffSession& s,
                    const std::string& command) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return c.Forbidden(req, &s);
  auto cal = Choose(c, s, *form);
  if (!cal || c.api.command_service == nullptr) return Show(c, req, s, *form);
  const json schema = AnnounceSchema(*cal->def);
  Command cmd;
  cmd.stream = cal->stream;
  cmd.name = command;
  if (command == "announce_closure") {
    cmd.payload = PayloadOf(schema, *form);
    cmd.payload["closure_id"] = "chiusura-" + (*form)["chiave"].substr(0, 12);
  } else {
    cmd.payload = {{"closure_id", (*form)["chiusura"]}};
  }
  cmd.payload["calendar"] = cal->calendar;
  cmd.payload["tenant"] = cal->tenant;
  if (!(*form)["chiave"].empty()) cmd.idempotency_key = "console-" + (*form)["chiave"];
  if (!(*form)["versione"].empty()) {
    cmd.expected_version = std::strtoull((*form)["versione"].c_str(), nullptr, 10);
  }
  CommandReply reply = c.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("/console/chiusure?ente={}&calendario={}&esito={}&dopo={}",
                                UrlEncode(cal->tenant), UrlEncode(cal->calendar),
                                command == "announce_closure" ? "annunciata" : "annullata",
                                reply.body.value("position", uint64_t{0})));
  }
  const Problem& p = *reply.problem;
  Outcome o;
  if (command == "announce_closure") o.values = *form;
  std::string whole;
  if (p.type == "payload-invalid") {
    o.errors = ErrorsOf(schema, cmd.payload, p.extra.value("violations", json::array()));
  } else if (p.type == "guard-refused" && p.extra.value("guard", "") == "closure_allowed") {
    // The guard's own rule, asked again on the state the form was sent against, for its figures.
    auto calendar = c.api.calendars->Build(cal->calendar, cal->tenant);
    auto from = domain::ParseDate(cmd.payload.value("from", ""));
    auto to = domain::ParseDate(cmd.payload.value("to", ""));
    std::optional<domain::ClosureRefusal> why;
    if (calendar.ok() && from && to) {
      Closure proposed{cmd.payload["closure_id"].get<std::string>(), *from, *to,
                       cmd.payload.value("reason", "")};
      auto judged = domain::JudgeClosure(*calendar, domain::ClosuresOf(cal->state), proposed,
                                         c.api.clock.Now());
      if (judged.ok()) why = *judged;
    }
    whole = why ? Explain(*why)
                : "La chiusura non rispetta le regole del servizio (almeno 5 giorni di preavviso, "
                  "al massimo 8 giorni lavorativi all'anno): controlla le date.";
  } else if (p.type == "guard-refused") {
    whole = "Questa chiusura non è più tra quelle annunciate: forse qualcuno l'ha già annullata.";
  } else if (p.type == "version-conflict") {
    whole =
        "Qualcun altro ha modificato le chiusure di questo calendario mentre compilavi il "
        "modulo: controlla l'elenco aggiornato e invia di nuovo.";
  } else if (p.status == 403) {
    whole = "Il tuo ruolo non consente questa operazione.";
  } else {
    whole = "Non è stato possibile completare l'operazione. Riprova tra qualche minuto.";
  }
  if (!whole.empty()) (command == "announce_closure" ? o.errors[""] : o.cancel_error) = whole;
  const int status = p.status >= 500 ? 503 : (p.status == 400 ? 422 : p.status);
  return Show(c, req, s, *form, &o, status);
}

http::Response Announce(const Console& c, const http::Request& req, const StaffSession& s) {
  return Send(c, req, s, "announce_closure");
}
http::Response Cancel(const Console& c, const http::Request& req, const StaffSession& s) {
  return Send(c, req, s, "cancel_closure");
}

}  // namespace

void AddClosurePages(http::Router& router, std::shared_ptr<Console> console) {
  router.Add("GET", "/console/chiusure", StaffPage(console, &ShowPage), /*blocking=*/true);
  router.Add("POST", "/console/chiusure/annuncia", StaffPage(console, &Announce),
             /*blocking=*/true);
  router.Add("POST", "/console/chiusure/annulla", StaffPage(console, &Cancel), /*blocking=*/true);
}

}  // namespace procedo::web
