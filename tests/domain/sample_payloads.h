// A valid payload for every command of the four workflows (the enrolment's services, site and
// answers from domain/services/comune-aosta.json), and the path of commands that takes a
// new stream into each state.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/workflow/workflow.h"

namespace procedo::testing {

using nlohmann::json;

inline json SamplePayload(const std::string& command) {
  static const std::map<std::string, json> kPayloads = {
      {"start_case",
       {{"procedure_id", "access_to_records"},
        {"case_code", "PR-2026-0001"},
        {"subject", "Accesso agli atti della pratica edilizia 12/2019"},
        {"applicant",
         {{"name", "Giulia Ferri"}, {"email", "giulia@example.it"}, {"mobile", "+39 333 1234567"}}},
        {"consent", {{"sms", true}, {"email", true}}}}},
      {"request_integration",
       {{"reason", "Manca la copia del documento d'identità"},
        {"documents", {"documento d'identità"}}}},
      {"receive_integration", {{"note", "Documento caricato"}}},
      {"suspend_case", {{"reason", "In attesa del parere della Soprintendenza"}}},
      {"resume_case", {{"reason", "Parere ricevuto"}}},
      {"add_note", {{"text", "Il fascicolo è stato trasmesso all'ufficio tecnico"}}},
      {"close_case", {{"outcome", "accepted"}, {"reason", "Accesso consentito"}}},
      {"enter_application",
       {{"applicant", {{"name", "Pierre Rollandin"}, {"tax_code", "RLLPRR70A01A326X"}}},
        {"address", "Rue de la Gare 3, Aosta"},
        {"household_members", 3},
        {"fuel", "pellet"}}},
      {"validate_application", json::object()},
      {"forward_to_region", json::object()},
      {"approve_application", {{"amount", 350.0}}},
      {"reject_application", {{"reason", "ISEE oltre la soglia"}}},
      {"return_application", {{"reason", "Manca l'attestazione ISEE in corso di validità"}}},
      {"correct_application",
       {{"corrections", "Allegata l'attestazione ISEE 2026"}, {"isee", 12500.0}}},
      {"open_ticket",
       {{"channel", "portal"},
        {"priority", "high"},
        {"subject", "Non riesco a caricare gli allegati"},
        {"contact", {{"email", "tecnico@studio.example.it"}}}}},
      {"take_in_charge", {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}}},
      {"escalate_ticket",
       {{"reason", "Errore lato server"},
        {"technician", "tec-verdi"},
        {"technician_name", "Sara Verdi"}}},
      {"request_information", {{"question", "Quale browser usa?"}}},
      {"receive_information", {{"answer", "Firefox 128"}}},
      {"record_message", {{"text", "Uso Firefox 128 su Windows 11"}}},
      {"record_reminder", {{"text", "Sollecito: nessuna risposta"}}},
      {"record_complaint", {{"text", "Reclamo per i tempi"}}},
      {"resolve_ticket", {{"solution", "Svuotare la cache del browser"}, {"answered_by", "email"}}},
      {"close_ticket", json::object()},
      {"archive_ticket", {{"keywords", {"allegati", "cache"}}}},
      {"reopen_ticket", {{"text", "Il problema si ripresenta"}}},
      {"record_sla_warning",
       {{"clock", "answer"},
        {"target", "3bd"},
        {"calendar", "support"},
        {"deadline", "2026-09-24T17:00:00+02:00"},
        {"started_at", "2026-09-21T16:13:20+02:00"},
        {"start_position", 1},
        {"elapsed_seconds", 77760},
        {"warning_at", "2026-09-24T09:00:00+02:00"}}},
      {"record_sla_breach",
       {{"clock", "answer"},
        {"target", "3bd"},
        {"calendar", "support"},
        {"deadline", "2026-09-24T17:00:00+02:00"},
        {"started_at", "2026-09-21T16:13:20+02:00"},
        {"start_position", 1},
        {"elapsed_seconds", 97200}}},
      {"start_enrolment",
       {{"channel", "online"},
        {"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
        {"beneficiary",
         {{"name", "Luca Blanc"}, {"tax_code", "BLNLCU15C10A326P"}, {"birth_date", "2015-03-10"}}},
        {"services", {"canteen", "transport"}},
        {"site", "primaria_saint_roch"}}},
      {"complete_details",
       {{"details",
         {{"canteen", {{"diet", "vegetarian"}, {"days_per_week", 5}}},
          {"transport", {{"stop", "piazza_chanoux"}, {"trips", "both"}}}}}}},
      {"submit_enrolment", json::object()},
      {"record_application_fee",
       {{"fee_payment", "payment-comune-aosta-1"},
        {"fee_receipt_id", "RCPT-FEE-1"},
        {"fee_paid_cents", 3000}}},
      {"rank_for_service", {{"service", "canteen"}}},
      {"admit_to_service", {{"service", "canteen"}}},
      {"place_on_waiting_list", {{"service", "canteen"}, {"reason", "Posti esauriti"}}},
      {"reject_for_service", {{"service", "canteen"}, {"reason", "Domanda fuori termine"}}},
      {"withdraw_from_service", {{"service", "canteen"}}},
      {"register_household",
       {{"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
        {"resident", false}}},
      {"declare_dependant",
       {{"name", "Luca Blanc"}, {"tax_code", "BLNLCU15C10A326P"}, {"birth_date", "2015-03-10"}}},
      {"create_payment_position",
       {{"purpose", "enrolment_fee"},
        {"reference", "enrolment-comune-aosta-1"},
        {"description", "Quota di iscrizione alla mensa 2026/27"},
        {"amount_cents", 3000},
        {"due_date", "2026-12-31"},
        {"debtor", {{"type", "F"}, {"fiscal_code", "BLNCRL80A41A326K"}, {"name", "Carla Blanc"}}}}},
      {"cancel_payment_position", {{"reason", "Iscrizione ritirata"}}},
      {"record_publication", {{"platform_status", "VALID"}}},
      {"record_publication_failure",
       {{"reason", "pagoPA answered 403: the key is not enabled for this Ente"},
        {"permanent", true},
        {"http_status", 403}}},
      {"record_platform_failure",
       {{"call", "withdraw"}, {"reason", "pagoPA did not answer (timeout)"}, {"permanent", false}}},
      {"record_receipt",
       {{"receipt_id", "r-sample-1"},
        {"notice_number", "302000000000500077"},
        {"iuv", "02000000000500077"},
        {"creditor_fiscal_code", "00120100071"},
        {"amount", "30.00"},
        {"outcome", "OK"},
        {"paid_at", "2026-12-01T10:00:00"},
        {"method", "CP"},
        {"psp", "Banca Esempio"}}},
      {"record_expiry", {{"platform_status", "EXPIRED"}}},
      {"settle_unmatched_receipt", {{"resolution", "Rimborsato al pagatore"}}},
      {"record_withdrawal", {{"platform_status", "INVALID"}}},
      {"settle_payment_anomaly", {{"receipt_id", "r-sample-1"}, {"resolution", "Rimborsato"}}},
  };
  if (command == "enter_and_validate_application") return SamplePayload("enter_application");
  if (command == "record_unmatched_receipt") return SamplePayload("record_receipt");
  auto it = kPayloads.find(command);
  if (it == kPayloads.end()) throw std::logic_error("no sample payload for " + command);
  return it->second;
}

struct Step {
  std::string command;
  std::string role;
  std::string actor;  // actor id
};

// Steps that take a fresh stream into `state`; all actors of tenant comune-aosta except the
// region's steps (tenant regione-vda).
inline std::vector<Step> PathTo(const std::string& workflow, const std::string& state) {
  static const std::map<std::pair<std::string, std::string>, std::vector<Step>> kPaths = {
      {{"admin_case", "open"}, {{"start_case", "operator", "op1"}}},
      {{"admin_case", "awaiting_integration"},
       {{"start_case", "operator", "op1"}, {"request_integration", "operator", "op1"}}},
      {{"admin_case", "suspended"},
       {{"start_case", "operator", "op1"}, {"suspend_case", "operator", "op1"}}},
      {{"admin_case", "closed"},
       {{"start_case", "operator", "op1"}, {"close_case", "operator", "op1"}}},
      {{"heating_voucher", "entered"}, {{"enter_application", "operator", "op1"}}},
      {{"heating_voucher", "validated"},
       {{"enter_application", "operator", "op1"}, {"validate_application", "validator", "val1"}}},
      {{"heating_voucher", "forwarded"},
       {{"enter_application", "operator", "op1"},
        {"validate_application", "validator", "val1"},
        {"forward_to_region", "validator", "val1"}}},
      {{"heating_voucher", "returned"},
       {{"enter_application", "operator", "op1"},
        {"validate_application", "validator", "val1"},
        {"forward_to_region", "validator", "val1"},
        {"return_application", "region", "reg1"}}},
      {{"heating_voucher", "approved"},
       {{"enter_application", "operator", "op1"},
        {"validate_application", "validator", "val1"},
        {"forward_to_region", "validator", "val1"},
        {"approve_application", "region", "reg1"}}},
      {{"heating_voucher", "rejected"},
       {{"enter_application", "operator", "op1"},
        {"validate_application", "validator", "val1"},
        {"forward_to_region", "validator", "val1"},
        {"reject_application", "region", "reg1"}}},
      {{"helpdesk_ticket", "open"}, {{"open_ticket", "citizen", "cit1"}}},
      {{"helpdesk_ticket", "in_progress"},
       {{"open_ticket", "citizen", "cit1"}, {"take_in_charge", "helpdesk_l1", "hd1"}}},
      {{"helpdesk_ticket", "level2"},
       {{"open_ticket", "citizen", "cit1"},
        {"take_in_charge", "helpdesk_l1", "hd1"},
        {"escalate_ticket", "helpdesk_l1", "hd1"}}},
      {{"helpdesk_ticket", "waiting_user"},
       {{"open_ticket", "citizen", "cit1"},
        {"take_in_charge", "helpdesk_l1", "hd1"},
        {"request_information", "helpdesk_l1", "hd1"}}},
      {{"helpdesk_ticket", "resolved"},
       {{"open_ticket", "citizen", "cit1"},
        {"take_in_charge", "helpdesk_l1", "hd1"},
        {"resolve_ticket", "helpdesk_l1", "hd1"}}},
      {{"helpdesk_ticket", "closed"},
       {{"open_ticket", "citizen", "cit1"},
        {"take_in_charge", "helpdesk_l1", "hd1"},
        {"resolve_ticket", "helpdesk_l1", "hd1"},
        {"close_ticket", "helpdesk_l1", "hd1"}}},
      {{"helpdesk_ticket", "archived"},
       {{"open_ticket", "citizen", "cit1"},
        {"take_in_charge", "helpdesk_l1", "hd1"},
        {"resolve_ticket", "helpdesk_l1", "hd1"},
        {"close_ticket", "helpdesk_l1", "hd1"},
        {"archive_ticket", "helpdesk_l1", "hd1"}}},
      {{"household", "registered"}, {{"register_household", "citizen", "cit1"}}},
      {{"payment_position", "created"}, {{"create_payment_position", "operator", "op1"}}},
      {{"payment_position", "cancelled"},
       {{"create_payment_position", "operator", "op1"},
        {"cancel_payment_position", "operator", "op1"}}},
      {{"unmatched_receipt", "open"}, {{"record_unmatched_receipt", "system", "pay"}}},
      {{"unmatched_receipt", "settled"},
       {{"record_unmatched_receipt", "system", "pay"},
        {"settle_unmatched_receipt", "operator", "op1"}}},
      {{"payment_position", "published"},
       {{"create_payment_position", "operator", "op1"}, {"record_publication", "system", "pay"}}},
      {{"payment_position", "paid"},
       {{"create_payment_position", "operator", "op1"},
        {"record_publication", "system", "pay"},
        {"record_receipt", "system", "pay"}}},
      {{"payment_position", "expired"},
       {{"create_payment_position", "operator", "op1"},
        {"record_publication", "system", "pay"},
        {"record_expiry", "system", "pay"}}},
      {{"service_enrolment", "draft"}, {{"start_enrolment", "citizen", "cit1"}}},
      {{"service_enrolment", "details_completed"},
       {{"start_enrolment", "citizen", "cit1"}, {"complete_details", "citizen", "cit1"}}},
      {{"service_enrolment", "submitted"},
       {{"start_enrolment", "citizen", "cit1"},
        {"complete_details", "citizen", "cit1"},
        {"submit_enrolment", "citizen", "cit1"}}},
  };
  auto it = kPaths.find({workflow, state});
  if (it == kPaths.end()) throw std::logic_error("no path to " + workflow + "/" + state);
  return it->second;
}

// Staff enter paper applications, citizens apply online (the channel_matches_role guard).
inline json SamplePayloadFor(const std::string& command, const std::string& role) {
  json p = SamplePayload(command);
  if (command == "start_enrolment" && role != "citizen") p["channel"] = "paper";
  return p;
}

// Valid step-2 answers for a service of comune-aosta's catalogue.
inline json SampleAnswers(const std::string& service) {
  static const std::map<std::string, json> kAnswers = {
      {"canteen", {{"diet", "standard"}, {"days_per_week", 5}}},
      {"transport", {{"stop", "piazza_chanoux"}, {"trips", "both"}}},
      {"nursery",
       {{"attendance", "full_time"}, {"start_date", "2026-09-07"}, {"both_parents_working", true}}},
      {"home_care",
       {{"address", "Via Festaz 20, Aosta"}, {"hours_per_week", 6}, {"lives_alone", true}}},
  };
  return kAnswers.at(service);
}

// A receipt that pays `position`: its own numbers and its amount in euro.
inline json MatchingReceipt(const WorkflowState& position) {
  json p = SamplePayload("record_receipt");
  for (const char* k : {"notice_number", "iuv", "creditor_fiscal_code"}) p[k] = position.fields[k];
  const int64_t cents = position.fields["amount_cents"];
  p["amount"] = std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
                std::to_string(cents % 100);
  return p;
}

// The product's own components (the SLA timer) act for the stream's tenant.
inline std::string TenantOf(const std::string& role) {
  return role == "region" ? "regione-vda" : "comune-aosta";
}

}  // namespace procedo::testing
