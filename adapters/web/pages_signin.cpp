// The console's sign-in with the organisation's identity provider (adapters/web/oidc.h and the
// steps the portal shares, signin_flow.h), its sign-out, and what every console page shares.
#include <fmt/format.h>

#include "adapters/web/console.h"
#include "adapters/web/signin_flow.h"
#include "domain/calendars.h"

namespace procedo::web {

using nlohmann::json;

std::optional<StaffSession> Console::Session(const http::Request& req) const {
  if (oidc == nullptr) return std::nullopt;
  const std::string id = Cookie(req, kConsoleSession);
  if (id.empty()) return std::nullopt;
  return oidc->Find(id);
}

http::Response Console::Page(int status, const std::string& page, const std::string& title,
                             json data, const http::Request& req, const StaffSession* who) const {
  http::Response cookies;
  const std::string csrf = FormToken(req, &cookies, options.secure_cookies);
  data["csrf"] = csrf;
  // A live page's feed starts after what the page shows.
  if (data.value("live", false)) data["dopo"] = std::to_string(api.log.LastPosition());
  Chrome chrome{.brand = "Procedo, console degli uffici",
                .tagline = "Pratiche, domande e ticket dell'ente",
                .home = "/console",
                .user = nullptr,
                .footer = "Console riservata al personale degli uffici."};
  if (who != nullptr) {
    chrome.user = {{"name", who->name.empty() ? who->who.id : who->name},
                   {"role", Label("roles", who->who.role)},
                   {"tenant", TenantName(who->who.tenant)},
                   {"csrf", csrf},
                   {"signout", "/console/esci"}};
  }
  http::Response r = Html(status, site.Render(page, title, std::move(data), chrome), true);
  for (auto& h : cookies.headers) r.headers.push_back(h);
  AllowProviderForms(r, oidc);
  return r;
}

http::Response Console::Error(int status, const std::string& title, const std::string& text,
                              const http::Request& req, const StaffSession* who) const {
  return Page(status, "console_error", title, {{"heading", title}, {"text", text}}, req, who);
}

http::Response Console::Forbidden(const http::Request& req, const StaffSession* who) const {
  return Error(403, "Richiesta non valida",
               "Il modulo è scaduto o non proviene da questa pagina. Torna alla pagina, "
               "ricaricala e riprova: nulla è stato modificato.",
               req, who);
}

http::Response Console::SignInAgain() const {
  return SeeOther("/console/accesso?esito=sessione-scaduta");
}

std::string Console::Label(const std::string& section, const std::string& key) const {
  const json& labels = site.labels();
  if (labels.contains(section) && labels[section].contains(key) &&
      labels[section][key].is_string()) {
    return labels[section][key];
  }
  return key;
}

std::string Console::StateLabel(const std::string& kind, const std::string& state) const {
  const json& labels = site.labels();
  if (labels.contains("states") && labels["states"].contains(kind) &&
      labels["states"][kind].contains(state)) {
    return labels["states"][kind][state];
  }
  return state;
}

std::string Console::TenantName(const std::string& tenant) const {
  const domain::TenantCalendarInfo* t =
      api.calendars != nullptr ? api.calendars->FindTenant(tenant) : nullptr;
  if (t != nullptr) return t->name;
  // The Regions own no calendar of their own: their names are the console's labels.
  if (std::string name = Label("regions", tenant); name != tenant) return name;
  return tenant.empty() ? "tutti gli enti" : tenant;
}

std::string Console::Local(const std::string& utc) const {
  auto t = ParseRfc3339(utc);
  if (!zone || !t.ok()) return utc;
  return ItalianDateTime(zone->FormatLocal(*t));
}

namespace {

http::Response ShowSignIn(const Console& c, const http::Request& req) {
  if (auto s = c.Session(req)) return SeeOther("/console");
  json d = {{"configured", c.oidc != nullptr}};
  static const std::map<std::string, std::pair<std::string, std::string>> kOutcomes = {
      {"sessione-scaduta",
       {"warning", "La sessione è scaduta o non è più valida: accedi di nuovo."}},
      {"uscito", {"info", "Sei uscito dalla console. Per rientrare, accedi di nuovo."}},
  };
  if (auto it = kOutcomes.find(req.Query("esito").value_or("")); it != kOutcomes.end()) {
    d["alert"] = {{"kind", it->second.first}, {"text", it->second.second}};
  }
  return c.Page(c.oidc != nullptr ? 200 : 503, "console_signin", "Accedi alla console", d, req,
                nullptr);
}

SignInArea Area(const Console& c) {
  SignInArea a;
  a.oidc = c.oidc;
  a.secure_cookies = c.options.secure_cookies;
  a.root = "/console";
  a.session_cookie = kConsoleSession;
  a.state_cookie = kSignInState;
  a.signed_out = "/console/accesso?esito=uscito";
  a.name = "console";
  a.error = [&c](int status, const std::string& title, const std::string& text,
                 const http::Request& req) { return c.Error(status, title, text, req, nullptr); };
  a.unavailable =
      "Il servizio di identità dell'ente non risponde. Riprova tra qualche minuto; se il "
      "problema continua, avvisa l'assistenza tecnica.";
  a.cancelled =
      "Il servizio di identità non ha concluso l'accesso (l'hai annullato, oppure le tue "
      "credenziali non sono abilitate a questa console). Riprova dalla pagina di accesso.";
  a.forged =
      "Questa risposta del servizio di identità non corrisponde a un accesso avviato da "
      "questo browser, oppure è già stata usata o è scaduta. Riparti dalla pagina di accesso.";
  a.refused =
      "Il servizio di identità non ha confermato la tua identità a questa console: la "
      "risposta non era valida, oppure il tuo profilo non indica un ruolo e un ente "
      "ammessi. Riparti dalla pagina di accesso; se il problema continua, chiedi "
      "all'amministratore di verificare il tuo profilo.";
  return a;
}

http::Response StartSignIn(const Console& c, const http::Request& req) {
  return BeginSignIn(Area(c), req);
}

http::Response FinishConsoleSignIn(const Console& c, const http::Request& req) {
  return FinishSignIn(Area(c), req);
}

http::Response SignOutOfConsole(const Console& c, const http::Request& req) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return c.Forbidden(req, nullptr);
  return SignOut(Area(c), req);
}

}  // namespace

void AddSignInPages(http::Router& router, std::shared_ptr<Console> console) {
  auto page = [console](http::Response (*handler)(const Console&, const http::Request&)) {
    return [console, handler](http::Request& req) {
      try {
        return handler(*console, req);
      } catch (const std::exception&) {
        return console->Error(500, "Errore del servizio",
                              "Si è verificato un errore imprevisto. Riprova tra qualche minuto.",
                              req, nullptr);
      }
    };
  };
  router.Add("GET", "/console/accesso", page(&ShowSignIn));
  // Both call the provider over the network: off the network threads.
  router.Add("GET", "/console/accesso/avvia", page(&StartSignIn), /*blocking=*/true);
  router.Add("GET", "/console/accesso/ritorno", page(&FinishConsoleSignIn), /*blocking=*/true);
  router.Add("POST", "/console/esci", page(&SignOutOfConsole));
  // Where the provider sends the browser back after signing the person out there.
  router.Add("GET", "/console/accesso/uscito",
             [](http::Request&) { return SeeOther("/console/accesso?esito=uscito"); });
}

void AddConsolePages(http::Router& router, http::Api& api, const Site& site, OidcClient* oidc,
                     WebOptions options) {
  auto console = std::make_shared<Console>(Console{api, site, oidc, options, std::nullopt});
  if (api.calendars != nullptr) {
    if (auto cal = api.calendars->Build("always", ""); cal.ok()) console->zone = std::move(*cal);
  }
  AddSignInPages(router, console);
  AddClosurePages(router, console);
  AddConsolePaymentPages(router, console);
  AddDashboardPages(router, console);
  AddLivePages(router, console);
  AddWorkPages(router, console);
}

}  // namespace procedo::web
