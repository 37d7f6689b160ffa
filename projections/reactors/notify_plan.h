// What the notifier sends for an event: pure, so that a restart plans exactly the messages (and
// message ids) the crashed run planned.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/calendars.h"
#include "domain/services.h"
#include "engine/log/event.h"
#include "engine/base/status.h"
#include "projections/reactors/notify_templates.h"

namespace procedo::projections {

struct OutgoingMessage {
  std::string message_id;  // MessageId(): the same on every attempt and after a restart
  std::string channel;     // "email" | "sms"
  std::string recipient;
  std::string subject;     // e-mail only
  std::string body;
  // E-mail only: where answers go (a help-desk ticket's: the tenant's mailbox, which files them
  // onto the ticket); empty: no Reply-To.
  std::string reply_to;
  std::string source_stream;
  std::string source_event_id;
  std::string source_type;
  // The credentials issue whose password is in the text (0: none); lets the notifier's state
  // store the message without the password and derive it again (notifier_state.h).
  uint64_t password_issue = 0;
};

// What the notifier remembers of a case, ticket or application from earlier events.
struct CaseFacts {
  std::string tenant, case_code, procedure_name, subject, applicant_name, term_text;
  std::string email, mobile;  // the citizen's, the ticket's or the applicant's contact
  bool consent_email = false, consent_sms = false, opted_out = false;
  nlohmann::json office = nlohmann::json::object();
  nlohmann::json responsible = nlohmann::json::object();
  std::string technician_name;
  std::string number;  // a ticket's number (TCK-2026-000123), as its opening gave it
  // What a ticket's SLA clocks promise at the event, in Italian local time ("24/11/2026 alle
  // 09:30"); empty when the clock is not running. resolution_target: the resolution target the
  // ticket's fields choose ("6h"), said before that clock starts.
  std::string take_in_charge_by, resolution_by, resolution_target;
  // An enrolment's: whom it is for and at which site (its outcomes name them).
  std::string beneficiary_name, site;
};

// hex(SHA-256(event id | channel | recipient)), 32 characters.
std::string MessageId(const std::string& event_id, const std::string& channel,
                      const std::string& recipient);

struct PlanContext {
  std::string base_url;
  std::string sla_fallback_email;
  // The channels this server has (notify.smtp_host, notify.sms_url): none is planned for one it
  // lacks, so that nothing is owed that could never go.
  bool email = true;
  bool sms = true;
  // By stream kind, for kinds whose events name no office (tickets): the procedure catalogue
  // entry of their workflow ({"office": ..., "responsible": ...}), frozen into the facts when the
  // stream opens, as a case freezes the entry it started under.
  std::map<std::string, nlohmann::json> catalogue_by_kind;
  // Issue n of the case's password (DerivePassword with the server secret).
  std::function<std::string(const std::string& case_stream, uint64_t issue)> password;
  // The key of a ticket's page (DeriveTicketKey with the server secret), in its messages' link.
  std::function<std::string(const std::string& tenant, const std::string& ticket_stream)>
      ticket_key;
  // The tenants' names and offices (tenants.json): a Comune is told the Region's outcome on the
  // applications it forwarded at its office's address, as the tenants' data has it when told.
  std::shared_ptr<const domain::CalendarCatalog> tenants;
  // By tenant: the help-desk mailbox that answers to its tickets' mail go to (mail.address).
  std::map<std::string, std::string> reply_to;
  // The Comuni's services catalogues: an enrolment's outcome names the service and the site as
  // the catalogue does when told (null: by their ids).
  std::shared_ptr<const domain::ServiceCatalogue> services;
};

// The applicant, their contact and the beneficiary an application (enrolment.started) gives.
void FoldEnrolmentStarted(const Event& e, const nlohmann::json& data, CaseFacts& f);

// What an enrolment's outcome (admitted, waitlisted, rejected) says beyond the facts: the
// service and site by name, and whether the system moved the application up the waiting list.
void AddEnrolmentVars(const nlohmann::json& data, const CaseFacts& f, const PlanContext& ctx,
                      TemplateVars& v);

// A closure of the help desk announced (calendar.closure_announced), told to the requester of
// one of the tenant's open tickets, whose facts are `f`: what the closure means for that ticket.
Result<std::vector<OutgoingMessage>> PlanClosureNotice(const Event& e, const nlohmann::json& data,
                                                       const std::string& ticket_stream,
                                                       const CaseFacts& f,
                                                       const TemplateSet& templates,
                                                       const PlanContext& ctx);

// The stream whose facts an event concerns: the event's own (a case, a ticket, an application),
// or for citizen.* events the case they name ("" when the event concerns none of them).
std::string FactsStream(const Event& e, const nlohmann::json& data);

// Updates `facts` with what `e` says and returns the messages it calls for, rendered.
Result<std::vector<OutgoingMessage>> PlanMessages(const Event& e, const nlohmann::json& data,
                                                  const std::string& facts_stream,
                                                  CaseFacts& facts, const TemplateSet& templates,
                                                  const PlanContext& ctx);

}  // namespace procedo::projections
