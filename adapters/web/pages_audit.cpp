// The audit trail of one stream in the console: who did what and when, each event's place in the
// log's SHA-256 chain checked by the engine's one rule (VerifyStream, engine/log/verify.h), and a
// verdict in Italian. Whoever may read the stream reads its trail (http::MayRead, i.e.
// domain::MayRead); for anyone else it does not exist.
#include <fmt/format.h>

#include "adapters/web/audit.h"
#include "adapters/web/console.h"
#include "engine/base/url.h"

namespace procedo::web {

using nlohmann::json;

json AuditVerdict(const StreamVerifyReport& r) {
  const size_t n = r.links.size();
  if (r.ok) {
    std::string text =
        n == 1 ? "L'evento di questa pratica è verificato: la sua impronta SHA-256 corrisponde "
                 "ai suoi dati ed è collegata a quella dell'evento precedente e del successivo "
                 "nel registro."
               : fmt::format(
                     "Tutti i {} eventi di questa pratica sono verificati: l'impronta "
                     "SHA-256 di ciascuno corrisponde ai suoi dati ed è collegata a "
                     "quella dell'evento precedente e del successivo nel registro.",
                     n);
    if (r.truncated) {
      text += fmt::format(" Sono stati controllati i primi {} eventi.", n);
    }
    return {{"ok", true}, {"heading", "Catena integra"}, {"text", text}};
  }
  size_t bad = 0;
  for (const auto& l : r.links) bad += l.ok ? 0 : 1;
  std::string text = fmt::format(
      "La catena delle impronte è interrotta alla posizione {} del registro: l'evento in quella "
      "posizione, o quello che lo precede, è stato alterato, rimosso o spostato dopo la "
      "registrazione.",
      r.first_bad_position);
  text += bad == 1 ? " Un evento di questa pratica non è più garantito: è segnato qui sotto."
                   : fmt::format(
                         " {} eventi di questa pratica non sono più garantiti: sono "
                         "segnati qui sotto.",
                         bad);
  text +=
      " Non basarti su questi dati e avvisa il responsabile della conservazione, che può "
      "verificare l'intero registro.";
  return {{"ok", false},
          {"heading", fmt::format("Catena non integra alla posizione {}", r.first_bad_position)},
          {"text", text}};
}

namespace {

std::string HashShort(const Hash& h) {
  return HashToHex(h).substr(0, 16);
}

}  // namespace

http::Response ShowAudit(const Console& c, const http::Request& req, const StaffSession& s) {
  const std::string stream = req.params.at("id");
  if (!ValidateStreamId(stream).ok() || !http::MayRead(c.api, s.who, stream)) {
    return c.Error(404, "Pratica non trovata",
                   "Non esiste una pratica con questo identificativo tra quelle che puoi vedere. "
                   "Torna agli elenchi e aprila da lì.",
                   req, &s);
  }
  auto report = VerifyStream(c.api.log, stream);
  if (!report.ok()) {
    return c.Error(503, "Servizio momentaneamente non disponibile",
                   "Non è stato possibile leggere il registro. Riprova tra qualche minuto.", req,
                   &s);
  }
  if (report->links.empty()) {
    return c.Error(404, "Pratica non trovata",
                   "Non esiste una pratica con questo identificativo tra quelle che puoi vedere. "
                   "Torna agli elenchi e aprila da lì.",
                   req, &s);
  }
  json rows = json::array();
  for (const auto& l : report->links) {
    json row = {{"version", std::to_string(l.version)},
                {"position", std::to_string(l.position)},
                {"ok", l.ok},
                {"at", ""},
                {"who", ""},
                {"what", ""},
                {"hash", ""}};
    if (l.event) {
      const Event& e = *l.event;
      row["at"] = c.Local(FormatTime(e.time));
      row["what"] = c.Label("events", e.type);
      row["type"] = e.type;
      json actor = json::parse(e.actor, nullptr, false);
      if (actor.is_object() && actor.contains("system")) {
        row["who"] = fmt::format("sistema ({})", Text(actor, "system"));
      } else if (actor.is_object()) {
        row["who"] =
            fmt::format("{} ({})", Text(actor, "id"), c.Label("roles", Text(actor, "role")));
      }
      row["hash"] = HashShort(e.hash);
    }
    rows.push_back(std::move(row));
  }
  json d = {{"stream", stream},
            {"back", "/console/pratiche/" + UrlEncode(stream)},
            {"verdict", AuditVerdict(*report)},
            {"rows", rows}};
  return c.Page(200, "console_audit", fmt::format("Registro di {}", stream), d, req, &s);
}

}  // namespace procedo::web
