// A citizen's position in one service (seed 003, "Consultazione dei servizi attivi"): the
// balance or the invoices, the consumption per month, the movements page by page, and the
// low-credit alert's form. Reads go through the API's own functions (the same read rule as
// GET /v1/accounts/{id}); the alert is set_low_credit_alert through the one command path.
#include <fmt/format.h>

#include "adapters/command_service.h"
#include "adapters/web/console.h"
#include "adapters/web/enrolment_forms.h"
#include "adapters/web/portal.h"
#include "adapters/web/schema_form.h"
#include "domain/italian_text.h"
#include "engine/base/url.h"

namespace procedo::web {
namespace {

using nlohmann::json;

constexpr const char* kAlert = "set_low_credit_alert";

std::optional<json> Read(http::Response r, int* status) {
  *status = r.status;
  if (r.status != 200) return std::nullopt;
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// "2026-11" as "novembre 2026".
std::string MonthName(const std::string& period) {
  static const char* kMonths[] = {"gennaio",   "febbraio", "marzo",    "aprile",
                                  "maggio",    "giugno",   "luglio",   "agosto",
                                  "settembre", "ottobre",  "novembre", "dicembre"};
  if (period.size() != 7 || period[4] != '-') return period;
  const int m = std::atoi(period.substr(5, 2).c_str());
  return m >= 1 && m <= 12 ? fmt::format("{} {}", kMonths[m - 1], period.substr(0, 4)) : period;
}

json MovementRow(const Portal& p, const json& m, bool prepaid) {
  const std::string type = m.value("type", "");
  const long long amount = m.value("amount_cents", m.value("total_cents", 0LL));
  json row = {{"recorded", p.Local(m.value("recorded_at", ""))},
              {"date", m.contains("date") ? ItalianDate(m.value("date", "")) : ""}};
  if (type == "account.topped_up") {
    row["what"] = "Ricarica";
    row["amount"] = domain::ItalianEuro(amount);
  } else if (type == "account.usage_recorded") {
    const long long q = m.value("quantity", 1LL);
    row["what"] = q == 1 ? std::string("Consumo") : fmt::format("Consumo ({} unità)", q);
    row["amount"] = domain::ItalianEuro(prepaid ? -amount : amount);
  } else if (type == "account.invoice_issued") {
    row["what"] = "Fattura di " + MonthName(m.value("period", ""));
    row["amount"] = domain::ItalianEuro(amount);
  } else {
    row["what"] = type;
  }
  if (prepaid && m.contains("balance_cents")) {
    row["balance"] = domain::ItalianEuro(m.value("balance_cents", 0LL));
  }
  return row;
}

// The alert's form, from the command's own payload schema, with the threshold typed in euro.
json AlertSchema(const Portal& p, const std::string& stream) {
  const WorkflowDefinition* def = p.api.workflows ? p.api.workflows->ForStream(stream) : nullptr;
  if (def == nullptr || !def->commands.count(kAlert)) return nullptr;
  json schema = def->commands.at(kAlert).payload->source();
  if (schema.contains("properties") && schema["properties"].contains("threshold_cents")) {
    json& t = schema["properties"]["threshold_cents"];
    t["title"] = "Soglia in euro";
    t["description"] = "ad esempio 5,00; se la lasci vuota vale la soglia stabilita dall'ente";
  }
  if (schema.contains("properties") && schema["properties"].contains("channels")) {
    schema["properties"]["channels"]["items"]["enumNames"] = {"E-mail", "SMS"};
  }
  return schema;
}

}  // namespace

std::string TypedEuroToCents(const std::string& typed) {
  std::string t;
  for (char ch : typed) {
    if (ch != ' ' && ch != '\xa0') t.push_back(ch == ',' ? '.' : ch);
  }
  if (t.starts_with("€")) t = t.substr(std::string("€").size());
  const size_t dot = t.find('.');
  const std::string whole = t.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 9 || !digits(whole) || frac.size() > 2 || !digits(frac)) {
    return typed;
  }
  return std::to_string(std::stoll(whole) * 100 +
                        (frac.empty() ? 0 : std::stoll(frac) * (frac.size() == 1 ? 10 : 1)));
}

namespace {

struct AlertOutcome {
  FormValues values;
  std::map<std::string, std::string> errors;
};

http::Response ShowPosition(const Portal& p, const http::Request& req, const StaffSession& s,
                            const AlertOutcome* outcome = nullptr, int form_status = 200,
                            const TopUpOutcome* top_up = nullptr) {
  const std::string id = req.params.at("id");
  http::Request read;
  read.params["id"] = id;
  if (auto after = req.Query("dopo")) read.query["min_position"] = *after;
  int status = 0;
  auto summary = Read(http::AccountFor(p.api, s.who, read), &status);
  if (!summary) {
    if (status == 404 || status == 400 || status == 403) return p.NotFound(req, &s);
    return p.Error(503, "Servizio momentaneamente non disponibile",
                   "Non riusciamo a leggere la posizione in questo momento. Riprova tra qualche "
                   "minuto.",
                   req, &s);
  }
  const json& a = *summary;
  const bool prepaid = a.value("regime", "") == "prepaid";
  json d = {{"service", a.value("service_name", a.value("service", ""))},
            {"beneficiary", a.value("beneficiary_name", "")},
            {"site", SiteName(p.api, a.value("tenant", ""), a.value("site", ""))},
            {"prepaid", prepaid},
            {"open", a.value("state", "") != "closed"},
            {"opened", p.Local(a.value("opened_at", ""))}};
  if (prepaid) {
    d["balance"] = domain::ItalianEuro(a.value("balance_cents", 0LL));
    d["topped_up"] = domain::ItalianEuro(a.value("topped_up_cents", 0LL));
  }
  d["used"] = domain::ItalianEuro(a.value("usage_cents", 0LL));
  json months = json::array();
  const json consumption = a.value("consumption", json::object());
  for (const auto& [period, m] : consumption.items()) {
    months.push_back({{"month", MonthName(period)},
                      {"quantity", m.value("quantity", 0)},
                      {"amount", domain::ItalianEuro(m.value("amount_cents", 0LL))}});
  }
  d["months"] = months;
  d["has_months"] = !months.empty();
  json invoices = json::array();
  const json issued = a.value("invoices", json::object());
  for (const auto& [period, total] : issued.items()) {
    invoices.push_back(
        {{"month", MonthName(period)},
         {"amount", domain::ItalianEuro(total.is_number() ? total.get<long long>() : 0LL)}});
  }
  d["invoices"] = invoices;
  d["has_invoices"] = !invoices.empty();

  // The movements, a page at a time.
  http::Request page;
  page.params["id"] = id;
  page.query["limit"] = "50";
  if (auto from = req.Query("da")) page.query["cursor"] = *from;
  if (auto moved = Read(http::AccountMovementsFor(p.api, s.who, page), &status)) {
    json rows = json::array();
    const json items = moved->value("items", json::array());
    for (const auto& m : items) {
      rows.push_back(MovementRow(p, m, prepaid));
    }
    d["movements"] = rows;
    d["has_movements"] = !rows.empty();
    if (moved->contains("next_cursor")) {
      d["next"] = fmt::format("/servizi/posizioni/{}?da={}", UrlEncode(id),
                              UrlEncode(moved->value("next_cursor", "")));
    }
  }

  // The alert: what is set now, and the form to change it.
  if (prepaid && d["open"].get<bool>()) {
    const json alert = a.value("alert", json::object());
    const json channels = alert.value("channels", json::array());
    if (!channels.empty()) {
      std::vector<std::string> names;
      for (const auto& c : channels) names.push_back(c == "sms" ? "SMS" : "e-mail");
      d["alert_now"] = fmt::format("Attivo: ti avvisiamo via {} quando il credito scende sotto {}.",
                                   fmt::join(names, " e "),
                                   domain::ItalianEuro(alert.value("threshold_cents", 0LL)));
    } else {
      d["alert_now"] = "Non attivo: nessun avviso quando il credito è basso.";
    }
    const json schema = AlertSchema(p, id);
    if (!schema.is_null()) {
      json f = FormOf(schema, kAlert, outcome ? outcome->values : FormValues{},
                      outcome ? outcome->errors : std::map<std::string, std::string>{});
      f["command"] = kAlert;
      f["title"] = "Salva l'avviso";
      f["action"] = fmt::format("/servizi/posizioni/{}/avviso", UrlEncode(id));
      f["stream"] = id;
      f["version"] = std::to_string(a.value("version", 0));
      f["key"] = RandomHex(16);
      if (outcome && outcome->errors.count("")) f["error"] = outcome->errors.at("");
      d["alert_form"] = f;
    }
  }
  if (req.Query("esito").value_or("") == "avviso") {
    d["notice"] = "Fatto: la scelta sull'avviso di credito basso è stata registrata.";
  }
  d.update(AccountPayments(p, s, id, prepaid && d["open"].get<bool>(), top_up));
  return p.Page(
      outcome || top_up ? form_status : 200, "portal_position",
      fmt::format("{} di {}", d["service"].get<std::string>(), d["beneficiary"].get<std::string>()),
      d, req, &s);
}

http::Response SetAlert(const Portal& p, const http::Request& req, const StaffSession& s) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return p.Forbidden(req, &s);
  const std::string id = req.params.at("id");
  const json schema = AlertSchema(p, id);
  if (schema.is_null() || p.api.command_service == nullptr) return p.NotFound(req, &s);
  FormValues values = *form;
  const std::string threshold_field = "f.threshold_cents";
  if (auto t = values.find(threshold_field); t != values.end() && !t->second.empty()) {
    t->second = TypedEuroToCents(t->second);
  }
  Command cmd;
  cmd.stream = id;
  cmd.name = kAlert;
  cmd.payload = PayloadOf(schema, values);
  if (auto k = form->find("chiave"); k != form->end() && !k->second.empty()) {
    cmd.idempotency_key = "portal-" + k->second;
  }
  if (auto v = form->find("versione"); v != form->end() && !v->second.empty()) {
    cmd.expected_version = std::strtoull(v->second.c_str(), nullptr, 10);
  }
  CommandReply reply = p.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("/servizi/posizioni/{}?esito=avviso&dopo={}", UrlEncode(id),
                                reply.body.value("position", uint64_t{0})));
  }
  const Problem& problem = *reply.problem;
  if (problem.status == 404 || problem.status == 403) return p.NotFound(req, &s);
  AlertOutcome o;
  o.values = *form;  // as typed, in euro
  if (problem.type == "payload-invalid") {
    o.errors = ErrorsOf(schema, cmd.payload, problem.extra.value("violations", json::array()));
  } else if (problem.type == "version-conflict") {
    o.errors[""] =
        "La posizione è cambiata mentre compilavi il modulo: controlla i dati aggiornati e "
        "invia di nuovo.";
  } else if (problem.status == 422) {
    o.errors[""] =
        "L'avviso non è stato salvato: per l'avviso via e-mail indica l'indirizzo, via SMS il "
        "numero di cellulare; se l'ente non ha fissato una soglia, indicala tu.";
  } else {
    o.errors[""] = "Non è stato possibile salvare l'avviso. Riprova tra qualche minuto.";
  }
  return ShowPosition(p, req, s, &o, problem.status >= 500 ? 503 : problem.status);
}

}  // namespace

http::Response ShowAccount(const Portal& p, const http::Request& req, const StaffSession& s,
                           const TopUpOutcome* top_up, int status) {
  return ShowPosition(p, req, s, nullptr, status, top_up);
}

void AddPositionPages(http::Router& router, std::shared_ptr<Portal> portal) {
  AddPageRoute(router, "/servizi/posizioni/{id}",
               PortalPage(portal, [](const Portal& p, const http::Request& req,
                                     const StaffSession& s) { return ShowPosition(p, req, s); }),
               /*blocking=*/true);
  router.Add("POST", "/servizi/posizioni/{id}/avviso", PortalPage(portal, &SetAlert),
             /*blocking=*/true);
}

}  // namespace procedo::web
