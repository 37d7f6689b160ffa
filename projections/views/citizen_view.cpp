// The citizen's page of a case (seed 002 §1), folded from the case stream's own events so that it
// needs no view to be caught up: the citizen reads it right after the message arrives.
#include "projections/views/citizen_view.h"

#include <nlohmann/json.hpp>

#include "domain/citizen.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

const char* Label(const std::string& type) {
  if (type == "case.started") return "Avvio della pratica";
  if (type == "case.suspended") return "Sospensione";
  if (type == "case.integration_requested") return "Richiesta di integrazione";
  if (type == "case.integration_received") return "Integrazione presentata";
  if (type == "case.resumed") return "Riattivazione";
  if (type == "case.note_added") return "Nota";
  if (type == "case.closed") return "Chiusura";
  if (type == "sla.breached") return "Termine superato";
  return nullptr;  // timer warnings and the like are not for the citizen
}

}  // namespace

json BuildCitizenCaseView(const std::vector<Event>& events) {
  json view = json::object();
  json timeline = json::array(), suspensions = json::array(), notes = json::array();
  std::string state = "in corso";
  for (const Event& e : events) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) continue;
    std::string at = FormatTime(e.time);
    if (e.type == "case.started") {
      view["case_code"] = d.value("case_code", "");
      view["stream"] = e.stream;
      view["procedure"] = {{"id", d.value("procedure_id", "")},
                           {"name", d.value("procedure_name", "")},
                           {"subject", d.value("subject", "")},
                           {"data", d.value("procedure_data", json::object())}};
      view["office"] = d.value("office", json::object());
      view["responsible"] = d.value("responsible", json::object());
      view["term"] = {{"text", d.value("term_text", "")}, {"target", d.value("term", "")}};
      view["started_at"] = at;
    } else if (e.type == "case.suspended" || e.type == "case.integration_requested") {
      state = e.type == "case.suspended" ? "sospesa" : "in attesa di integrazione";
      suspensions.push_back({{"from", at},
                             {"kind", e.type == "case.suspended" ? "sospensione" : "integrazione"},
                             {"reason", d.value("reason", "")}});
    } else if (e.type == "case.resumed" || e.type == "case.integration_received") {
      state = "riattivata";
      if (!suspensions.empty() && !suspensions.back().contains("to")) {
        suspensions.back()["to"] = at;
        if (d.contains("reason")) suspensions.back()["resume_reason"] = d["reason"];
      }
    } else if (e.type == "case.closed") {
      state = "chiusa";
      view["closure"] = {{"at", at},
                         {"outcome", d.value("outcome", "")},
                         {"outcome_text", domain::OutcomeText(d.value("outcome", ""))},
                         {"reason", d.value("reason", "")}};
    } else if (e.type == "case.note_added") {
      notes.push_back({{"at", at}, {"text", d.value("note", "")}});
    }
    if (const char* label = Label(e.type)) {
      json entry = {{"at", at}, {"type", e.type}, {"label", label}};
      for (const char* k : {"reason", "note", "outcome"}) {
        if (d.contains(k)) entry[k] = d[k];
      }
      timeline.push_back(std::move(entry));
    }
  }
  view["state"] = state;
  view["suspensions"] = suspensions;
  // The latest notes, as the case view keeps them: a page does not grow with a long case's notes.
  view["notes_total"] = notes.size();
  if (notes.size() > kCitizenNotes) {
    notes.erase(notes.begin(), notes.end() - static_cast<std::ptrdiff_t>(kCitizenNotes));
  }
  view["notes"] = notes;
  view["timeline"] = timeline;
  return view;
}

}  // namespace procedo::projections
