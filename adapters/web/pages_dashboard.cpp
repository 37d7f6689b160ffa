// The SLA dashboard and the help desk's monthly KPIs in the console: the views GET
// /v1/sla/dashboard and /v1/kpis/helpdesk answer (same functions, same role and tenant checks),
// each chart drawn by the server as SVG (charts.h) beside a table with the same figures.
#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "adapters/web/charts.h"
#include "adapters/web/console.h"
#include "engine/base/url.h"

namespace procedo::web {

using nlohmann::json;

namespace {

constexpr const char* kMonths[] = {"gennaio",   "febbraio", "marzo",    "aprile",
                                   "maggio",    "giugno",   "luglio",   "agosto",
                                   "settembre", "ottobre",  "novembre", "dicembre"};

// "2026-11" -> "novembre 2026"; "" for anything else.
std::string MonthName(const std::string& ym) {
  if (ym.size() != 7 || ym[4] != '-') return ym;
  const int m = std::atoi(ym.substr(5).c_str());
  if (m < 1 || m > 12) return ym;
  return fmt::format("{} {}", kMonths[m - 1], ym.substr(0, 4));
}

std::string Short(const std::string& ym) {
  const std::string name = MonthName(ym);
  return name.size() > 3 && ym.size() == 7 ? name.substr(0, 3) + " " + ym.substr(2, 2) : ym;
}

std::string AddMonths(const std::string& ym, int delta) {
  int y = std::atoi(ym.substr(0, 4).c_str()), m = std::atoi(ym.substr(5).c_str()) - 1 + delta;
  y += m >= 0 ? m / 12 : (m - 11) / 12;
  m = ((m % 12) + 12) % 12;
  return fmt::format("{:04}-{:02}", y, m + 1);
}

bool ValidMonth(const std::string& m) {
  return m.size() == 7 && m[4] == '-' && std::isdigit(static_cast<unsigned char>(m[0])) &&
         std::isdigit(static_cast<unsigned char>(m[5])) &&
         std::isdigit(static_cast<unsigned char>(m[6])) && std::atoi(m.substr(5).c_str()) >= 1 &&
         std::atoi(m.substr(5).c_str()) <= 12;
}

std::string Percent(double v) {
  std::string s = fmt::format("{:.1f}%", v);
  for (char& c : s) c = c == '.' ? ',' : c;
  return s;
}

// Business seconds as a person reads them: "2 h 15 min", "45 min".
std::string Duration(const json& seconds) {
  if (!seconds.is_number()) return "–";
  const auto total = static_cast<int64_t>(std::llround(seconds.get<double>() / 60));
  if (total < 60) return fmt::format("{} min", total);
  return total % 60 == 0 ? fmt::format("{} h", total / 60)
                         : fmt::format("{} h {} min", total / 60, total % 60);
}

// The tenant a page asks the views for: an administrator's own, or the one chosen.
void AskTenant(const StaffSession& s, const http::Request& in, http::Request* q) {
  if (!domain::IsAdmin(s.who)) return;
  std::string t = in.Query("ente").value_or(s.who.tenant);
  if (!t.empty()) q->query["tenant"] = t;
}

http::Response NotForYou(const Console& c, const http::Request& req, const StaffSession& s,
                         int code, const std::string& what) {
  if (code == 403) {
    return c.Error(403, "Operazione non consentita",
                   fmt::format("{} non è tra quelli che il tuo ruolo può consultare.", what), req,
                   &s);
  }
  if (code == 400) {
    return c.Error(400, "Ente da indicare",
                   "Indica l'ente di cui vuoi vedere i dati (parametro «ente»).", req, &s);
  }
  return c.Error(503, "Servizio momentaneamente non disponibile",
                 "Non è stato possibile leggere i dati. Riprova tra qualche minuto.", req, &s);
}

std::string CurrentMonth(const Console& c) {
  const std::string local =
      c.zone ? c.zone->FormatLocal(c.api.clock.Now()) : FormatTime(c.api.clock.Now());
  return local.substr(0, 7);
}

http::Response ShowSla(const Console& c, const http::Request& req, const StaffSession& s) {
  http::Request q;
  AskTenant(s, req, &q);
  q.query["months"] = "12";
  q.query["limit"] = "100";
  int code = 0;
  auto view = ReadView(http::SlaDashboardFor(c.api, s.who, q), &code);
  if (!view) return NotForYou(c, req, s, code, "Il cruscotto dei termini");
  json risky = json::array();
  for (const json& item : view->value("clocks", json::array())) {
    const std::string stream = Text(item, "stream");
    const bool breached = Text(item, "status") == "breached";
    risky.push_back({{"href", "/console/pratiche/" + UrlEncode(stream)},
                     {"stream", stream},
                     {"kind", c.Label("kinds", Text(item, "kind"))},
                     {"clock", c.Label("clocks", Text(item, "clock"))},
                     {"deadline", c.Local(Text(item, "deadline"))},
                     {"breached", breached},
                     {"status", breached ? "Termine superato" : "A rischio"}});
  }
  // Oldest month first, as a chart reads.
  json months = json::array();
  BarChart chart{.id = "grafico-termini",
                 .title = "Termini rispettati e superati per mese",
                 .description =
                     "Le stesse cifre sono nella tabella «Termini chiusi per mese» "
                     "qui sotto.",
                 .labels = {},
                 .series = {{"Rispettati", "#0066cc", {}}, {"Superati", "#cc334d", {}}},
                 .unit = "",
                 .max = 0};
  json monthly = view->value("monthly", json::array());
  for (auto it = monthly.rbegin(); it != monthly.rend(); ++it) {
    const json total = it->value("total", json::object());
    const double met = total.value("met", 0.0), breached = total.value("breached", 0.0);
    const std::string month = Text(*it, "month");
    chart.labels.push_back(Short(month));
    chart.series[0].values.push_back(met);
    chart.series[1].values.push_back(breached);
    months.push_back({{"month", MonthName(month)},
                      {"met", fmt::format("{:.0f}", met)},
                      {"breached", fmt::format("{:.0f}", breached)},
                      {"percent", Percent(total.value("percent_met", 100.0))},
                      {"reminders", std::to_string(it->value("reminders", 0))},
                      {"complaints", std::to_string(it->value("complaints", 0))}});
  }
  const json open = view->value("open", json::object());
  json d = {{"tenant", c.TenantName(Text(*view, "tenant"))},
            {"at_risk", std::to_string(open.value("at_risk", 0))},
            {"breached", std::to_string(open.value("breached", 0))},
            {"risky", risky},
            {"has_risky", !risky.empty()},
            {"months", months},
            {"has_months", !months.empty()},
            {"chart", months.empty() ? json(false) : json(RenderBarChart(chart))},
            {"now", c.Local(Text(*view, "now"))},
            {"live", true}};
  return c.Page(200, "console_sla", "Cruscotto dei termini", d, req, &s);
}

http::Response ShowKpis(const Console& c, const http::Request& req, const StaffSession& s) {
  std::string month = req.Query("mese").value_or(CurrentMonth(c));
  if (!ValidMonth(month)) month = CurrentMonth(c);
  // The chosen month and the five before it, oldest first.
  json rows = json::array();
  json chosen;
  BarChart chart{.id = "grafico-ticket",
                 .title = "Ticket aperti e risolti negli ultimi sei mesi",
                 .description = "Le stesse cifre sono nella tabella «Ticket per mese» qui sotto.",
                 .labels = {},
                 .series = {{"Aperti", "#0066cc", {}}, {"Risolti", "#008055", {}}},
                 .unit = "",
                 .max = 0};
  for (int back = 5; back >= 0; --back) {
    const std::string m = AddMonths(month, -back);
    http::Request q;
    AskTenant(s, req, &q);
    q.query["month"] = m;
    int code = 0;
    auto k = ReadView(http::HelpdeskKpisFor(c.api, s.who, q), &code);
    if (!k) return NotForYou(c, req, s, code, "Gli indicatori dell'help desk");
    const json tp = k->value("take_in_charge", json::object());
    const json tr = k->value("resolution", json::object());
    auto rate = [](const json& v) { return v.is_number() ? Percent(100 * v.get<double>()) : "–"; };
    json row = {{"month", MonthName(m)},
                {"href", "/console/indicatori?mese=" + m},
                {"opened", std::to_string(k->value("opened", 0))},
                {"resolved", std::to_string(k->value("resolved", 0))},
                {"closed", std::to_string(k->value("closed", 0))},
                {"reopened", std::to_string(k->value("reopened", 0))},
                {"reminders", std::to_string(k->value("reminders", 0))},
                {"complaints", std::to_string(k->value("complaints", 0))},
                {"tp_count", std::to_string(tp.value("count", 0))},
                {"tp_mean", Duration(tp.value("mean_seconds", json()))},
                {"tp_p90", Duration(tp.value("p90_seconds", json()))},
                {"tp_breached", std::to_string(tp.value("breached", 0))},
                {"tr_count", std::to_string(tr.value("count", 0))},
                {"tr_mean", Duration(tr.value("mean_seconds", json()))},
                {"tr_p90", Duration(tr.value("p90_seconds", json()))},
                {"tr_breached", std::to_string(tr.value("breached", 0))},
                {"breach_rate", rate(k->value("breach_rate", json()))},
                {"reopen_rate", rate(k->value("reopen_rate", json()))}};
    chart.labels.push_back(Short(m));
    chart.series[0].values.push_back(k->value("opened", 0.0));
    chart.series[1].values.push_back(k->value("resolved", 0.0));
    if (back == 0) chosen = row;
    rows.push_back(std::move(row));
  }
  json d = {{"month", MonthName(month)},
            {"chosen", chosen},
            {"rows", rows},
            {"chart", RenderBarChart(chart)},
            {"prev", "/console/indicatori?mese=" + AddMonths(month, -1)},
            {"prev_name", MonthName(AddMonths(month, -1))},
            {"next", "/console/indicatori?mese=" + AddMonths(month, 1)},
            {"next_name", MonthName(AddMonths(month, 1))},
            {"live", true}};
  return c.Page(200, "console_kpis", fmt::format("Indicatori dell'help desk, {}", MonthName(month)),
                d, req, &s);
}

}  // namespace

void AddDashboardPages(http::Router& router, std::shared_ptr<Console> console) {
  router.Add("GET", "/console/termini", StaffPage(console, &ShowSla), /*blocking=*/true);
  router.Add("GET", "/console/indicatori", StaffPage(console, &ShowKpis), /*blocking=*/true);
}

}  // namespace procedo::web
