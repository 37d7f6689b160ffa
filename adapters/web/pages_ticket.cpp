// The help-desk requester's page of a ticket (seed 004), opened from the link of the ticket's
// messages: number, state, level, technician, the expected times and the messages the requester
// may read. The requester has no account: the link's key is the credential, and who may read
// what is domain/access.h's (TicketKeyValid, RequesterMayRead, RequesterText). The page reads
// one row of the requester_ticket view, whose clocks are the one clock rule's; it writes nothing.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "adapters/web/web.h"
#include "domain/access.h"
#include "domain/calendars.h"
#include "domain/citizen_access.h"
#include "engine/calendar/calendar.h"
#include "engine/log/log_store.h"
#include "engine/views/view_store.h"
#include "projections/views/requester_ticket.h"

namespace procedo::web {
namespace {

using nlohmann::json;
using projections::RequesterTicketProjection;

// Longer than any tenant id, stream id or key the product writes: refused before anything else.
constexpr size_t kMaxParam = 200;

std::string Str(const json& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

const char* StateLabel(const std::string& state) {
  if (state == "open") return "aperto, in attesa di presa in carico";
  if (state == "in_progress") return "in lavorazione";
  if (state == "level2") return "in lavorazione all'assistenza di secondo livello";
  if (state == "waiting_user") return "in attesa delle informazioni richieste";
  if (state == "resolved") return "risolto";
  if (state == "closed") return "chiuso";
  if (state == "archived") return "chiuso e archiviato";
  return "in lavorazione";
}

const char* ChannelLabel(const std::string& channel) {
  if (channel == "portal") return "portale";
  if (channel == "email") return "e-mail";
  if (channel == "phone") return "telefono";
  return "";
}

// The requester's texts by the event that carries them (which events those are is
// RequesterText's decision; this is only how the page names them).
const char* MessageLabel(const std::string& type) {
  if (type == "ticket.opened") return "Richiesta";
  if (type == "ticket.escalated") return "Passaggio al secondo livello";
  if (type == "ticket.information_requested") return "Richiesta di informazioni";
  if (type == "ticket.information_received") return "Informazioni inviate";
  if (type == "ticket.reminder_received") return "Sollecito";
  if (type == "ticket.complaint_received") return "Reclamo";
  if (type == "ticket.resolved") return "Soluzione";
  if (type == "ticket.closed") return "Nota di chiusura";
  if (type == "ticket.reopened") return "Riapertura";
  return "Messaggio";
}

// "5 ore e 30 minuti", "1 ora", "45 minuti": business time left, rounded up to the minute.
std::string DurationText(int64_t seconds) {
  const int64_t minutes = (std::max<int64_t>(0, seconds) + 59) / 60;
  const int64_t h = minutes / 60, m = minutes % 60;
  std::string hours = h == 1 ? "1 ora" : fmt::format("{} ore", h);
  std::string mins = m == 1 ? "1 minuto" : fmt::format("{} minuti", m);
  if (h == 0) return mins;
  return m == 0 ? hours : hours + " e " + mins;
}

struct TicketPages {
  http::Api& api;
  const Site& site;
  std::optional<BusinessCalendar> zone;  // Europe/Rome, for the instants the view keeps in UTC

  std::string Local(const json& utc) const {
    if (!utc.is_string()) return "";
    auto t = ParseRfc3339(utc.get<std::string>());
    if (!t.ok()) return utc.get<std::string>();
    return ItalianDateTime(zone ? zone->FormatLocal(*t) : FormatTime(*t));
  }

  Chrome Service(const http::Request& req) const {
    Chrome c;
    c.brand = "Assistenza on line";
    c.tagline = "Lo stato delle richieste di assistenza";
    c.home = req.target;
    c.footer = "Servizio di assistenza agli utenti (help desk).";
    return c;
  }

  http::Response Message(int status, const std::string& title, const std::string& text,
                         const http::Request& req) const {
    json data = {{"heading", title}, {"text", text}};
    return Html(status, site.Render("ticket_error", title, std::move(data), Service(req)), true);
  }

  // The one answer to a wrong or missing key, another tenant's link and a ticket that does not
  // exist, so that nothing tells them apart.
  http::Response NotFound(const http::Request& req) const {
    return Message(404, "Ticket non trovato",
                   "Il collegamento non è valido oppure il ticket non esiste. Apri il "
                   "collegamento dell'ultimo messaggio ricevuto sul ticket, senza modificarlo.",
                   req);
  }

  http::Response Busy(const http::Request& req) const {
    return Message(503, "Servizio momentaneamente non disponibile",
                   "Non è stato possibile leggere il ticket. Riprova tra qualche minuto.", req);
  }

  // The row of the view, once it has folded the stream's latest event: the requester comes from
  // a message about that event, and must not see the ticket as it was before it.
  Result<std::optional<json>> Row(const std::string& stream) const {
    auto read = [&]() -> Result<std::optional<json>> {
      auto row = api.views->Get(RequesterTicketProjection::kName,
                                RequesterTicketProjection::RowKey(stream));
      if (!row.ok()) return row.status();
      if (!row->has_value()) return std::optional<json>();
      json j = json::parse(**row, nullptr, false);
      if (!j.is_object()) return Status::Corruption("a requester_ticket row is not JSON");
      return std::optional<json>(std::move(j));
    };
    auto row = read();
    if (!row.ok()) return row;
    auto version = api.log.StreamVersion(stream);
    if (!version.ok()) return version.status();
    const uint64_t seen = *row ? (**row).value("version", uint64_t{0}) : 0;
    if (seen >= *version || api.runner == nullptr) return row;
    api.runner->WaitFor(api.log.LastPosition(), api.max_wait);
    return read();
  }

  json ClockData(const std::string& id, const json& c) const;
  json TicketData(const json& v) const;
  http::Response Show(const http::Request& req) const;
};

json TicketPages::ClockData(const std::string& id, const json& c) const {
  const bool take = id == "take_in_charge";
  const std::string phase = Str(c, "phase");
  std::string text;
  if (phase == "running") {
    const std::string deadline = Local(c.value("deadline", json()));
    if (deadline.empty()) {
      text = "La scadenza non è al momento disponibile.";
    } else if (c.value("breached", false)) {
      text = fmt::format("Tempo previsto superato: la scadenza era il {}.", deadline);
    } else {
      text = fmt::format("Entro il {}.", deadline);
    }
  } else if (phase == "paused") {
    text = fmt::format("Sospeso dal {}, in attesa delle informazioni richieste.",
                       Local(c.value("paused_at", json())));
    if (c.contains("remaining_seconds") && c["remaining_seconds"].is_number_integer()) {
      text += fmt::format(" Alla ripresa resteranno {} di orario di servizio.",
                          DurationText(c["remaining_seconds"].get<int64_t>()));
    }
    const std::string before = Local(c.value("deadline_before_pause", json()));
    if (!before.empty()) text += fmt::format(" Prima della sospensione scadeva il {}.", before);
  } else if (phase == "stopped") {
    text = fmt::format("{} il {}, {} il tempo previsto.", take ? "Preso in carico" : "Risolto",
                       Local(c.value("stopped_at", json())),
                       c.value("met", false) ? "entro" : "oltre");
  } else {
    text = "Il tempo di risoluzione decorre dalla presa in carico.";
  }
  return {{"id", take ? "presa-in-carico" : "risoluzione"},
          {"label", take ? "Presa in carico" : "Risoluzione"},
          {"text", text}};
}

json TicketPages::TicketData(const json& v) const {
  const std::string tenant = Str(v, "tenant");
  const domain::TenantCalendarInfo* known =
      api.calendars != nullptr ? api.calendars->FindTenant(tenant) : nullptr;
  const int64_t level = v.value("level", int64_t{1});
  // The number the server issued (TCK-2026-000123); a ticket opened before numbers existed has
  // only its stream's.
  const std::string number = Str(v, "number");
  json d = {{"number", number.empty() ? domain::StreamNumber(Str(v, "stream"), tenant) : number},
            {"subject", Str(v, "subject")},
            {"state", StateLabel(Str(v, "state"))},
            {"waiting", Str(v, "state") == "waiting_user"},
            {"opened_at", Local(v.value("opened_at", json()))},
            {"channel", ChannelLabel(Str(v, "channel"))},
            {"level", level == 2 ? "secondo livello" : "primo livello"},
            {"technician", Str(v, "technician_name")},
            {"tenant_name", known != nullptr ? known->name : ""}};
  // The two times seed 004 promises the requester, in its order; the workflow's other clocks
  // are the help desk's own measures.
  json clocks = json::array();
  const json shown = v.value("clocks", json::object());
  for (const char* id : {"take_in_charge", "resolution"}) {
    json c = shown.contains(id) ? shown[id] : json::object();
    clocks.push_back(ClockData(id, c));
  }
  d["clocks"] = clocks;
  json messages = json::array();
  for (const json& m : v.value("messages", json::array())) {
    messages.push_back({{"label", MessageLabel(Str(m, "type"))},
                        {"at", Local(m.value("at", json()))},
                        {"text", Str(m, "text")}});
  }
  d["has_messages"] = !messages.empty();
  d["messages"] = messages;
  return d;
}

http::Response TicketPages::Show(const http::Request& req) const {
  const domain::TicketLink link{req.Query("ente").value_or(""), req.Query("id").value_or(""),
                                req.Query("chiave").value_or("")};
  if (link.tenant.empty() || link.stream.empty() || link.key.empty() ||
      link.tenant.size() > kMaxParam || link.stream.size() > kMaxParam ||
      link.key.size() > kMaxParam || !ValidateStreamId(link.stream).ok()) {
    return NotFound(req);
  }
  if (api.citizen == nullptr || api.views == nullptr) return Busy(req);
  // The key first, on the link alone: a wrong one never reads the view.
  if (!api.citizen->TicketKeyValid(link)) return NotFound(req);
  auto row = Row(link.stream);
  if (!row.ok()) return Busy(req);
  if (!*row || !domain::RequesterMayRead(link, domain::StreamFacts{Str(**row, "tenant"), "", ""})) {
    return NotFound(req);
  }
  json d = TicketData(**row);
  const std::string title = fmt::format("Ticket {}", d["number"].get<std::string>());
  return Html(200, site.Render("ticket", title, std::move(d), Service(req)), true);
}

}  // namespace

void AddTicketPages(http::Router& router, http::Api& api, const Site& site) {
  auto pages = std::make_shared<TicketPages>(TicketPages{api, site, std::nullopt});
  if (api.calendars != nullptr) {
    if (auto cal = api.calendars->Build("always", ""); cal.ok()) pages->zone = std::move(*cal);
  }
  AddPageRoute(
      router, "/ticket",
      [pages](http::Request& req) {
        try {
          return pages->Show(req);
        } catch (const std::exception&) {
          return pages->Message(500, "Errore del servizio",
                                "Si è verificato un errore imprevisto. Riprova tra qualche minuto.",
                                req);
        }
      },
      /*blocking=*/true);
}

}  // namespace procedo::web
