// "La tua pratica on line" (seed 002) in the browser: the login the messages' link opens, the
// case page, the survey and the opt-out. Each decision is CitizenAccess's (login, lockout,
// session, survey once, opt-out) and each write one of its commands; the pages only render and
// say in Italian what the outcome was.
#include <fmt/format.h>

#include "adapters/web/page_cache.h"
#include "adapters/web/web.h"
#include "domain/calendars.h"
#include "domain/citizen.h"
#include "domain/citizen_access.h"
#include "engine/base/url.h"
#include "engine/base/utf8.h"
#include "engine/calendar/calendar.h"

namespace procedo::web {
namespace {

using nlohmann::json;

constexpr const char* kSession = "procedo_pratica";
// Which case the browser last opened (the Comune and the case code, nothing secret): after the
// session expires, the login page is filled in again.
constexpr const char* kLastCase = "procedo_pratica_ultima";
constexpr size_t kMaxCode = 64, kMaxPassword = 256;

struct Pages {
  http::Api& api;
  const Site& site;
  WebOptions options;
  std::optional<BusinessCalendar> zone;  // Europe/Rome, for the instants the log records in UTC
  std::shared_ptr<PageCache> cache = std::make_shared<PageCache>();

  std::string Local(const std::string& utc) const {
    auto t = ParseRfc3339(utc);
    if (!zone || !t.ok()) return utc;
    return ItalianDateTime(zone->FormatLocal(*t));
  }
  std::string LocalIn(std::chrono::seconds from_now) const {
    TimePoint t = api.clock.Now() + from_now;
    return zone ? zone->FormatLocal(t).substr(11, 5) : FormatTime(t).substr(11, 5);
  }

  http::Response Page(int status, const std::string& page, const std::string& title, json data,
                      const http::Request& req, bool private_page) const {
    http::Response cookies;
    data["csrf"] = FormToken(req, &cookies, options.secure_cookies);
    http::Response r = Html(status, site.Render(page, title, std::move(data)), private_page);
    for (auto& h : cookies.headers) r.headers.push_back(h);
    return r;
  }

  http::Response Error(int status, const std::string& title, const std::string& text,
                       const http::Request& req) const {
    return Page(status, "error", title, {{"heading", title}, {"text", text}}, req, false);
  }

  http::Response Login(int status, const std::string& ente, const std::string& codice, json errors,
                       json alert, const http::Request& req) const {
    json data = {{"ente", ente}, {"codice", codice}, {"ente_known", !ente.empty()}};
    // The Comune by its name where the domain knows it; an unknown id is shown as sent (and
    // the login then fails like a wrong password: nothing tells which Comuni have cases).
    const domain::TenantCalendarInfo* known =
        api.calendars != nullptr ? api.calendars->FindTenant(ente) : nullptr;
    data["ente_name"] = known != nullptr ? known->name : ente;
    for (const char* field : {"ente", "codice", "password"}) {
      if (errors.contains(field)) data["error_" + std::string(field)] = errors[field];
    }
    if (!alert.is_null()) data["alert"] = alert;
    return Page(status, "login", "Accedi alla tua pratica", std::move(data), req, false);
  }

  // The session from the cookie: nullopt when absent, forged, expired or superseded (the citizen
  // logs in again); an error only when the service could not tell.
  Result<std::optional<domain::CitizenSession>> Session(const http::Request& req) const {
    std::string token = Cookie(req, kSession);
    if (token.empty()) return std::optional<domain::CitizenSession>();
    auto s = api.citizen->Verify(token);
    if (s.ok()) return std::optional<domain::CitizenSession>(*s);
    if (s.status().code() == Status::Code::kPermissionDenied) {
      return std::optional<domain::CitizenSession>();
    }
    return s.status();
  }

  http::Response Busy(const http::Request& req) const {
    return Error(503, "Servizio momentaneamente non disponibile",
                 "Non è stato possibile completare l'operazione. Riprova tra qualche minuto.", req);
  }

  // Back to the login, saying why, with the Comune and code of the case last opened.
  http::Response LoginAgain(const http::Request& req) const {
    bool ok = true;
    std::string last = http::UrlDecode(Cookie(req, kLastCase), &ok);
    auto form = ok ? ParseForm(last) : std::nullopt;
    if (!form) return SeeOther("/pratica?" + UrlQuery({{"esito", "sessione-scaduta"}}));
    return SeeOther("/pratica?" + UrlQuery({{"ente", (*form)["ente"]},
                                            {"codice", (*form)["codice"]},
                                            {"esito", "sessione-scaduta"}}));
  }

  http::Response Unavailable(const http::Request& req) const {
    return Error(503, "Servizio non disponibile",
                 "La consultazione delle pratiche on line non è attiva su questo server. "
                 "Contatta l'ufficio che segue la tua pratica.",
                 req);
  }

  http::Response ShowLogin(const http::Request& req) const {
    std::string ente = req.Query("ente").value_or("");
    std::string codice = req.Query("codice").value_or("");
    if (ente.size() > kMaxCode) ente.clear();
    if (codice.size() > kMaxCode) codice.clear();
    json alert;
    std::string outcome = req.Query("esito").value_or("");
    if (outcome == "sessione-scaduta") {
      alert = {{"kind", "warning"},
               {"text", "La sessione è scaduta o non è più valida: accedi di nuovo."}};
    } else if (outcome == "uscito") {
      alert = {{"kind", "info"}, {"text", "Sei uscito dalla pagina della tua pratica."}};
    }
    return Login(200, ente, codice, json::object(), alert, req);
  }

  http::Response DoLogin(const http::Request& req) const {
    if (api.citizen == nullptr) return Unavailable(req);
    auto form = ParseForm(req.body);
    if (!form || !CsrfValid(req, *form)) return Forbidden(req);
    const std::string ente = (*form)["ente"], codice = (*form)["codice"];
    const std::string password = (*form)["password"];
    json errors = json::object();
    if (ente.empty() || ente.size() > kMaxCode) {
      errors["ente"] = "Indica il codice dell'ente (il Comune) come appare nel link del messaggio.";
    }
    if (codice.empty()) errors["codice"] = "Inserisci il codice della pratica.";
    if (codice.size() > kMaxCode) {
      errors["codice"] =
          fmt::format("Il codice della pratica ha al massimo {} caratteri.", kMaxCode);
    }
    if (password.empty()) errors["password"] = "Inserisci la password.";
    if (password.size() > kMaxPassword) {
      errors["password"] = fmt::format("La password ha al massimo {} caratteri.", kMaxPassword);
    }
    const std::string shown_code = codice.size() > kMaxCode ? "" : codice;
    const std::string shown_ente = ente.size() > kMaxCode ? "" : ente;
    if (!errors.empty()) return Login(400, shown_ente, shown_code, errors, nullptr, req);
    auto outcome = api.citizen->Login(ente, codice, password);
    if (!outcome.ok()) {
      if (outcome.status().IsInvalidArgument()) {
        return Login(400, "", codice,
                     {{"ente", "L'ente indicato non esiste: usa il link dell'ultimo messaggio."}},
                     nullptr, req);
      }
      return Error(503, "Servizio momentaneamente non disponibile",
                   "Non è stato possibile verificare l'accesso. Riprova tra qualche minuto.", req);
    }
    if (outcome->locked) {
      const auto secs = outcome->retry_after.count();
      http::Response r = Login(
          429, ente, codice, json::object(),
          {{"kind", "danger"},
           {"text", fmt::format("Hai inserito una password errata troppe volte: per sicurezza "
                                "l'accesso a questa pratica è bloccato per {} minut{}, fino alle "
                                "{}. Se hai smarrito la password, contatta l'ufficio che segue "
                                "la pratica: ti invierà nuove credenziali ai recapiti che hai "
                                "dichiarato.",
                                (secs + 59) / 60, (secs + 59) / 60 == 1 ? "o" : "i",
                                LocalIn(outcome->retry_after))}},
          req);
      r.headers.emplace_back("Retry-After", std::to_string(secs));
      return r;
    }
    if (!outcome->ok) {
      return Login(
          401, ente, codice,
          {{"password",
            "Codice pratica o password non corretti. Controlla i dati dell'ultimo "
            "messaggio ricevuto: la password cambia a ogni nuovo invio delle credenziali."}},
          nullptr, req);
    }
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(outcome->session.expires -
                                                                api.clock.Now());
    http::Response r = SeeOther("/pratica/caso");
    r.headers.emplace_back("Set-Cookie",
                           SetCookie(kSession, outcome->token, "/pratica",
                                     std::max<long long>(0, ttl.count()), options.secure_cookies));
    r.headers.emplace_back(
        "Set-Cookie",
        SetCookie(kLastCase, UrlEncode(UrlQuery({{"ente", ente}, {"codice", codice}})), "/pratica",
                  30 * 24 * 3600, options.secure_cookies));
    return r;
  }

  http::Response NotFound(const http::Request& req) const {
    return Error(404, "Pagina non trovata",
                 "La pagina richiesta non esiste. Per vedere la tua pratica usa il collegamento "
                 "ricevuto nei messaggi, oppure accedi dalla pagina di accesso.",
                 req);
  }

  http::Response Forbidden(const http::Request& req) const {
    return Error(403, "Richiesta non valida",
                 "Il modulo è scaduto o non proviene da questa pagina. Torna alla pagina, "
                 "ricaricala e riprova: nulla è stato modificato.",
                 req);
  }

  json CaseData(const json& v, const domain::CitizenSession& s) const;
  http::Response ShowCase(const http::Request& req, json errors = json::object(),
                          int status = 200) const;
  http::Response DoSurvey(const http::Request& req) const;
  http::Response DoOptOut(const http::Request& req) const;
  http::Response ShowCaseNow(const http::Request& req) const { return ShowCase(req); }
  http::Response DoLogout(const http::Request& req) const {
    auto form = ParseForm(req.body);
    if (!form || !CsrfValid(req, *form)) return Forbidden(req);
    http::Response r = SeeOther("/pratica?esito=uscito");
    r.headers.emplace_back("Set-Cookie",
                           SetCookie(kSession, "", "/pratica", 0, options.secure_cookies));
    return r;
  }
};

// The case view (http::CitizenCaseView, the JSON route's own) shaped for the template: Italian
// dates in local time, labels, and what the forms need.
json Pages::CaseData(const json& v, const domain::CitizenSession& s) const {
  auto str = [](const json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : "";
  };
  json d = {{"case_code", str(v, "case_code")},
            {"procedure", str(v.value("procedure", json::object()), "name")},
            {"subject", str(v.value("procedure", json::object()), "subject")},
            {"started_at", Local(str(v, "started_at"))},
            {"office", v.value("office", json::object())},
            {"responsible", v.value("responsible", json::object())},
            {"state", str(v, "state")}};

  json term = v.value("term", json::object());
  json t = {{"text", str(term, "text")}};
  if (!str(term, "deadline").empty()) t["deadline"] = ItalianDate(str(term, "deadline"));
  if (!str(term, "deadline_before_suspension").empty()) {
    t["before_suspension"] = ItalianDate(str(term, "deadline_before_suspension"));
  }
  if (term.contains("closed_within_term") && term["closed_within_term"].is_boolean()) {
    t[term["closed_within_term"].get<bool>() ? "within" : "late"] = true;
  }
  d["term"] = t;
  json suspensions = json::array();
  for (const json& x : v.value("suspensions", json::array())) {
    json row = {
        {"kind", str(x, "kind") == "integrazione" ? "Richiesta di integrazione" : "Sospensione"},
        {"reason", str(x, "reason")},
        {"from", Local(str(x, "from"))}};
    if (!str(x, "to").empty()) row["to"] = Local(str(x, "to"));
    if (!str(x, "resume_reason").empty()) row["resume_reason"] = str(x, "resume_reason");
    suspensions.push_back(std::move(row));
  }
  d["suspensions"] = suspensions;
  d["has_suspensions"] = !suspensions.empty();
  json notes = json::array();
  for (const json& x : v.value("notes", json::array())) {
    notes.push_back({{"at", Local(str(x, "at"))}, {"text", str(x, "text")}});
  }
  d["notes"] = notes;
  d["has_notes"] = !notes.empty();
  const size_t total = v.value("notes_total", notes.size());
  if (total > notes.size()) {
    d["notes_older"] = fmt::format("Sono mostrate le ultime {} note di {}.", notes.size(), total);
  }
  if (v.contains("closure")) {
    const json& c = v["closure"];
    d["closure"] = {{"at", Local(str(c, "at"))},
                    {"outcome", str(c, "outcome_text")},
                    {"reason", str(c, "reason")}};
  }
  json timeline = json::array();
  for (const json& x : v.value("timeline", json::array())) {
    std::string detail = str(x, "reason");
    if (detail.empty()) detail = str(x, "note");
    json entry = {{"at", Local(str(x, "at"))}, {"label", str(x, "label")}};
    if (!detail.empty()) entry["detail"] = detail;
    timeline.push_back(std::move(entry));
  }
  d["timeline"] = timeline;
  d["messages_active"] = str(v, "notifications") != "opted_out";
  d["tenant"] = s.tenant;
  return d;
}

http::Response Pages::ShowCase(const http::Request& req, json errors, int status) const {
  if (api.citizen == nullptr) return Unavailable(req);
  auto found = Session(req);
  if (!found.ok()) return Busy(req);
  if (!*found) return LoginAgain(req);
  const domain::CitizenSession& session = **found;
  static const std::map<std::string, std::string> kOutcomes = {
      {"questionario",
       "Grazie: la tua risposta al questionario è stata registrata in forma "
       "anonima."},
      {"questionario-gia-compilato",
       "Il questionario di questa pratica è già stato compilato: "
       "si può rispondere una sola volta."},
      {"rinuncia",
       "Non riceverai più messaggi su questa pratica. Questa pagina resta "
       "consultabile con le credenziali che hai."},
  };
  const auto outcome = kOutcomes.find(req.Query("esito").value_or(""));
  // The case's events, the citizen's record (messages stopped or not) and the survey's marker.
  auto version = api.log.StreamVersion(session.case_stream);
  auto record = api.log.StreamVersion(domain::CitizenStreamFor(session.tenant, session.case_code));
  auto answered = api.citizen->SurveyAnswered(session);
  if (!version.ok() || !record.ok() || !answered.ok()) return Busy(req);
  // Every input of the page but the browser's CSRF token: the same key renders the same page.
  const std::string key =
      fmt::format("case|{}|{}|{}|{:d}|{}", session.case_stream, *version, *record, *answered,
                  outcome == kOutcomes.end() ? "" : outcome->first);
  const bool cacheable = errors.empty() && status == 200;
  http::Response cookies;
  const std::string csrf = FormToken(req, &cookies, options.secure_cookies);
  auto respond = [&](int code, std::string html) {
    http::Response r = Html(code, std::move(html), true);
    for (auto& h : cookies.headers) r.headers.push_back(h);
    return r;
  };
  if (cacheable) {
    if (auto html = cache->Find(key, csrf)) return respond(200, std::move(*html));
  }
  bool settled = false;
  auto view = http::CitizenCaseView(api, session, &settled);
  if (!view.ok()) {
    return Error(503, "Servizio momentaneamente non disponibile",
                 "Non è stato possibile leggere la pratica. Riprova tra qualche minuto.", req);
  }
  json d = CaseData(*view, session);
  d["survey_open"] = !*answered;
  for (auto& [k, e] : errors.items()) d["error_" + k] = e;
  if (outcome != kOutcomes.end()) d["notice"] = outcome->second;
  d["csrf"] = cache->TokenPlaceholder();
  const std::string title = fmt::format("Pratica {}", d["case_code"].get<std::string>());
  std::string html = site.Render("case", title, std::move(d));
  // A term's date computed for this moment (the views behind the log) is not kept.
  if (cacheable && settled) cache->Put(key, html);
  return respond(status, cache->Fill(std::move(html), csrf));
}

http::Response Pages::DoSurvey(const http::Request& req) const {
  if (api.citizen == nullptr) return Unavailable(req);
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return Forbidden(req);
  auto found = Session(req);
  if (!found.ok()) return Busy(req);
  if (!*found) return LoginAgain(req);
  const domain::CitizenSession& session = **found;
  const std::string rating = (*form)["voto"], comment = (*form)["commento"];
  json errors = json::object();
  if (rating.size() != 1 || rating[0] < '1' || rating[0] > '5') {
    errors["voto"] = "Scegli un voto da 1 (per niente soddisfatto) a 5 (molto soddisfatto).";
  }
  if (const size_t length = Utf8Length(comment); length > domain::kSurveyCommentMax) {
    errors["commento"] = fmt::format(
        "Il commento può avere al massimo {} caratteri (ne hai "
        "scritti {}).",
        domain::kSurveyCommentMax, length);
  }
  if (!errors.empty()) return ShowCase(req, errors, 400);
  Status st = api.citizen->AnswerSurvey(session, rating[0] - '0', comment);
  if (st.IsConflict()) return SeeOther("/pratica/caso?esito=questionario-gia-compilato");
  if (!st.ok()) {
    return Error(503, "Servizio momentaneamente non disponibile",
                 "Non è stato possibile registrare la risposta. Riprova tra qualche minuto.", req);
  }
  return SeeOther("/pratica/caso?esito=questionario");
}

http::Response Pages::DoOptOut(const http::Request& req) const {
  if (api.citizen == nullptr) return Unavailable(req);
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return Forbidden(req);
  auto found = Session(req);
  if (!found.ok()) return Busy(req);
  if (!*found) return LoginAgain(req);
  const domain::CitizenSession& session = **found;
  if (Status st = api.citizen->OptOut(session); !st.ok()) {
    return Error(503, "Servizio momentaneamente non disponibile",
                 "Non è stato possibile registrare la rinuncia. Riprova tra qualche minuto.", req);
  }
  return SeeOther("/pratica/caso?esito=rinuncia");
}

}  // namespace

void AddCitizenPages(http::Router& router, http::Api& api, const Site& site, WebOptions options) {
  auto pages = std::make_shared<Pages>(Pages{api, site, options, std::nullopt});
  if (api.calendars != nullptr) {
    // Any calendar carries the zone; "always" has no business hours to compute.
    if (auto cal = api.calendars->Build("always", ""); cal.ok()) pages->zone = std::move(*cal);
  }
  // A page that fails unexpectedly still answers as a page, not as the API's problem+json.
  auto page = [pages](http::Response (Pages::*handler)(const http::Request&) const) {
    return [pages, handler](http::Request& req) {
      try {
        return ((*pages).*handler)(req);
      } catch (const std::exception&) {
        return pages->Error(500, "Errore del servizio",
                            "Si è verificato un errore imprevisto. Riprova tra qualche minuto.",
                            req);
      }
    };
  };
  AddPageRoute(router, "/pratica", page(&Pages::ShowLogin));
  router.Add("POST", "/pratica/accesso", page(&Pages::DoLogin), /*blocking=*/true);
  AddPageRoute(router, "/pratica/caso", page(&Pages::ShowCaseNow));
  router.Add("POST", "/pratica/questionario", page(&Pages::DoSurvey), /*blocking=*/true);
  router.Add("POST", "/pratica/rinuncia", page(&Pages::DoOptOut), /*blocking=*/true);
  router.Add("POST", "/pratica/esci", page(&Pages::DoLogout));
  // Any other address under /pratica (a mistyped link, a form's address opened directly) is a
  // page in Italian, not the API's problem+json.
  AddPageRoute(router, "/pratica/{page}", page(&Pages::NotFound));
}

}  // namespace procedo::web
