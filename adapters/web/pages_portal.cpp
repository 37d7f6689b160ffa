// The citizens' portal of on-demand services: sign-in with the national identity (SPID, CIE)
// through the portal's OpenID provider, as a citizen of the Ente whose page the person came from,
// sign-out (the steps are the console's, signin_flow.h), and the home page with the person's
// positions (self and children) and applications.
#include <fmt/format.h>

#include "adapters/web/enrolment_forms.h"
#include "adapters/web/portal.h"
#include "adapters/web/signin_flow.h"
#include "domain/calendars.h"
#include "domain/italian_text.h"
#include "engine/base/url.h"

namespace procedo::web {

using nlohmann::json;

std::optional<StaffSession> Portal::Session(const http::Request& req) const {
  if (oidc == nullptr) return std::nullopt;
  const std::string id = Cookie(req, kPortalSession);
  if (id.empty()) return std::nullopt;
  return oidc->Find(id);
}

http::Response Portal::Page(int status, const std::string& page, const std::string& title,
                            json data, const http::Request& req, const StaffSession* who) const {
  http::Response cookies;
  const std::string csrf = FormToken(req, &cookies, options.secure_cookies);
  data["csrf"] = csrf;
  Chrome chrome{.brand = "Servizi su richiesta on line",
                .tagline = "Mense, nidi, trasporti e servizi a domanda individuale",
                .home = "/servizi",
                .user = nullptr,
                .footer = "Servizi on line dell'ente per i cittadini."};
  if (who != nullptr) {
    chrome.user = {{"name", who->name.empty() ? std::string("Cittadino") : who->name},
                   {"role", "Cittadino"},
                   {"tenant", TenantName(who->who.tenant)},
                   {"csrf", csrf},
                   {"signout", "/servizi/esci"}};
  }
  http::Response r = Html(status, site.Render(page, title, std::move(data), chrome), true);
  for (auto& h : cookies.headers) r.headers.push_back(h);
  AllowProviderForms(r, oidc);
  return r;
}

http::Response Portal::Error(int status, const std::string& title, const std::string& text,
                             const http::Request& req, const StaffSession* who) const {
  return Page(status, "portal_error", title, {{"heading", title}, {"text", text}}, req, who);
}

http::Response Portal::Forbidden(const http::Request& req, const StaffSession* who) const {
  return Error(403, "Richiesta non valida",
               "Il modulo è scaduto o non proviene da questa pagina. Torna alla pagina, "
               "ricaricala e riprova: nulla è stato modificato.",
               req, who);
}

http::Response Portal::NotFound(const http::Request& req, const StaffSession* who) const {
  return Error(404, "Pagina non trovata",
               "Non troviamo quello che hai chiesto tra i tuoi servizi. Controlla il collegamento "
               "oppure torna all'elenco dei tuoi servizi.",
               req, who);
}

std::string Portal::TenantName(const std::string& tenant) const {
  const domain::TenantCalendarInfo* t =
      api.calendars != nullptr ? api.calendars->FindTenant(tenant) : nullptr;
  return t != nullptr ? t->name : tenant;
}

std::string Portal::Label(const std::string& section, const std::string& key,
                          const std::string& sub) const {
  const json* at = &site.labels();
  for (const std::string& part : {section, sub}) {
    if (part.empty()) continue;
    if (!at->contains(part)) return key;
    at = &(*at)[part];
  }
  return at->contains(key) && (*at)[key].is_string() ? (*at)[key].get<std::string>() : key;
}

std::string Portal::Local(const std::string& utc) const {
  auto t = ParseRfc3339(utc);
  if (!zone || !t.ok()) return utc;
  return ItalianDateTime(zone->FormatLocal(*t));
}

http::Handler PortalPage(std::shared_ptr<Portal> portal, PortalHandler handler) {
  return [portal, handler](http::Request& req) {
    try {
      auto s = portal->Session(req);
      if (!s) return SeeOther("/servizi?esito=sessione-scaduta");
      return handler(*portal, req, *s);
    } catch (const std::exception&) {
      return portal->Error(500, "Errore del servizio",
                           "Si è verificato un errore imprevisto. Riprova tra qualche minuto.", req,
                           nullptr);
    }
  };
}

namespace {

bool KnownTenant(const Portal& p, const std::string& tenant) {
  return !tenant.empty() && p.api.calendars != nullptr &&
         p.api.calendars->FindTenant(tenant) != nullptr;
}

// A position as the home page's list shows it.
json PositionItem(const Portal& p, const json& a) {
  const std::string regime = a.value("regime", "");
  json item = {{"href", "/servizi/posizioni/" + UrlEncode(a.value("stream", ""))},
               {"service", a.value("service_name", a.value("service", ""))},
               {"beneficiary", a.value("beneficiary_name", "")},
               {"site", SiteName(p.api, a.value("tenant", ""), a.value("site", ""))},
               {"prepaid", regime == "prepaid"},
               {"closed", a.value("state", "") == "closed"},
               {"movements", a.value("movements", 0)}};
  if (regime == "prepaid") {
    const long long balance = a.value("balance_cents", 0LL);
    item["balance"] = domain::ItalianEuro(balance);
    item["low"] = a.contains("alert") && a["alert"].is_object() &&
                  balance < a["alert"].value("threshold_cents", 0LL);
  } else {
    item["invoiced"] = domain::ItalianEuro(a.value("invoiced_cents", 0LL));
  }
  if (a.contains("last_movement_at")) item["last"] = p.Local(a.value("last_movement_at", ""));
  return item;
}

http::Response ShowHome(const Portal& p, const http::Request& req, const StaffSession& s) {
  http::Request read;
  read.query["limit"] = "100";
  // After a change the person knows of (a link with ?dopo=<log position>), the lists wait for the
  // views to reach it; the applications' view is folded by the same runner, in the same batches.
  if (auto after = req.Query("dopo")) read.query["min_position"] = *after;
  http::Response r = http::HolderAccountsFor(p.api, s.who, read);
  json d = {{"tenant", p.TenantName(s.who.tenant)}};
  if (r.status != 200) {
    d["unavailable"] = true;
    return p.Page(503, "portal_home", "I tuoi servizi", d, req, &s);
  }
  json positions = json::array();
  const json body = json::parse(r.body);
  const json items = body.value("items", json::array());
  for (const auto& a : items) positions.push_back(PositionItem(p, a));
  d["positions"] = positions;
  d["has_positions"] = !positions.empty();
  d["more"] = body.contains("next_cursor");
  d["applications"] = ApplicationsOf(p, s);
  d["has_applications"] = !d["applications"].empty();
  return p.Page(200, "portal_home", "I tuoi servizi", d, req, &s);
}

http::Response ShowStart(const Portal& p, const http::Request& req) {
  if (auto s = p.Session(req)) return ShowHome(p, req, *s);
  const std::string ente = req.Query("ente").value_or("");
  json d = {{"configured", p.oidc != nullptr}};
  if (KnownTenant(p, ente)) {
    d["ente"] = ente;
    d["ente_name"] = p.TenantName(ente);
  } else {
    json enti = json::array();
    if (p.api.calendars != nullptr) {
      for (const auto& t : p.api.calendars->Tenants()) {
        enti.push_back({{"id", t.id}, {"name", t.name}});
      }
    }
    d["enti"] = enti;
  }
  static const std::map<std::string, std::pair<std::string, std::string>> kOutcomes = {
      {"sessione-scaduta",
       {"warning", "La sessione è scaduta o non è più valida: accedi di nuovo."}},
      {"uscito", {"info", "Sei uscito dai servizi on line. Per rientrare, accedi di nuovo."}},
  };
  if (auto it = kOutcomes.find(req.Query("esito").value_or("")); it != kOutcomes.end()) {
    d["alert"] = {{"kind", it->second.first}, {"text", it->second.second}};
  }
  return p.Page(p.oidc != nullptr ? 200 : 503, "portal_signin", "Accedi ai servizi on line", d, req,
                nullptr);
}

SignInArea Area(const Portal& p) {
  SignInArea a;
  a.oidc = p.oidc;
  a.secure_cookies = p.options.secure_cookies;
  a.root = "/servizi";
  a.session_cookie = kPortalSession;
  a.state_cookie = kPortalSignIn;
  a.signed_out = "/servizi?esito=uscito";
  a.name = "portal";
  a.error = [&p](int status, const std::string& title, const std::string& text,
                 const http::Request& req) { return p.Error(status, title, text, req, nullptr); };
  a.unavailable =
      "Il servizio di identità non risponde. Riprova tra qualche minuto; se il problema "
      "continua, contatta l'ufficio dei servizi scolastici e sociali.";
  a.cancelled =
      "Il servizio di identità non ha concluso l'accesso (forse l'hai annullato). Riprova "
      "dalla pagina dei servizi on line.";
  a.forged =
      "Questa risposta del servizio di identità non corrisponde a un accesso avviato da "
      "questo browser, oppure è già stata usata o è scaduta. Riparti dalla pagina dei servizi "
      "on line.";
  a.refused =
      "Il servizio di identità non ha confermato la tua identità. Riparti dalla pagina dei "
      "servizi on line; se il problema continua, contatta l'ufficio.";
  return a;
}

http::Response StartPortalSignIn(const Portal& p, const http::Request& req) {
  const std::string ente = req.Query("ente").value_or("");
  if (p.oidc == nullptr || !KnownTenant(p, ente)) return SeeOther("/servizi");
  return BeginSignIn(Area(p), req, ente);
}

http::Response FinishPortalSignIn(const Portal& p, const http::Request& req) {
  if (p.oidc == nullptr) return SeeOther("/servizi");
  return FinishSignIn(Area(p), req);
}

http::Response SignOutOfPortal(const Portal& p, const http::Request& req) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return p.Forbidden(req, nullptr);
  return SignOut(Area(p), req);
}

}  // namespace

void AddPortalPages(http::Router& router, http::Api& api, const Site& site, OidcClient* oidc,
                    WebOptions options) {
  auto portal = std::make_shared<Portal>(Portal{api, site, oidc, options, std::nullopt});
  if (api.calendars != nullptr) {
    if (auto cal = api.calendars->Build("always", ""); cal.ok()) portal->zone = std::move(*cal);
  }
  auto page = [portal](http::Response (*handler)(const Portal&, const http::Request&)) {
    return [portal, handler](http::Request& req) {
      try {
        return handler(*portal, req);
      } catch (const std::exception&) {
        return portal->Error(500, "Errore del servizio",
                             "Si è verificato un errore imprevisto. Riprova tra qualche minuto.",
                             req, nullptr);
      }
    };
  };
  // The home page reads the views: off the network threads, as the JSON routes do.
  AddPageRoute(router, "/servizi", page(&ShowStart), /*blocking=*/true);
  router.Add("GET", "/servizi/accesso/avvia", page(&StartPortalSignIn), /*blocking=*/true);
  router.Add("GET", "/servizi/accesso/ritorno", page(&FinishPortalSignIn), /*blocking=*/true);
  router.Add("POST", "/servizi/esci", page(&SignOutOfPortal));
  router.Add("GET", "/servizi/accesso/uscito",
             [](http::Request&) { return SeeOther("/servizi?esito=uscito"); });
  AddPositionPages(router, portal);
  AddPaymentPages(router, portal);
  AddPortalEnrolmentPages(router, portal);
}

}  // namespace procedo::web
