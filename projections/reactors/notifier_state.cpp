#include "projections/reactors/notifier_state.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "domain/citizen.h"

namespace procedo::projections {

using domain::DerivePassword;
namespace {

using nlohmann::json;

// Stands for the password in a stored message. Control characters, so that template text never
// holds it; were a citizen's own reason to contain it, the citizen would see their own password
// in their own message, nothing more.
constexpr const char* kPasswordMark = "\x01password\x01";
// Stands for a ticket's page key in a stored message, for the same reason.
constexpr const char* kTicketKeyMark = "\x01ticket-key\x01";

// The key a ticket's messages carry in their link (none for other streams' messages).
std::string TicketKeyOf(const OutgoingMessage& m, const std::string& tenant,
                        const std::string& secret) {
  if (!m.source_stream.starts_with("ticket-") || tenant.empty()) return "";
  return domain::DeriveTicketKey(secret, tenant, m.source_stream);
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) {
    s.replace(i, from.size(), to);
  }
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
}

int64_t Micros(TimePoint t) {
  return t.time_since_epoch().count();
}

}  // namespace

std::string FactsKey(const std::string& stream) {
  return "f/" + stream;
}
std::string OwedCredentialsKey(const std::string& stream) {
  return kOwedCredentialsPrefix + stream;
}
std::string PendingKey(const std::string& message_id) {
  return kPendingPrefix + message_id;
}

std::string EncodeFacts(const StoredFacts& s) {
  const CaseFacts& f = s.facts;
  return json{{"tenant", f.tenant},
              {"case_code", f.case_code},
              {"procedure_name", f.procedure_name},
              {"subject", f.subject},
              {"applicant_name", f.applicant_name},
              {"term_text", f.term_text},
              {"email", f.email},
              {"mobile", f.mobile},
              {"consent_email", f.consent_email},
              {"consent_sms", f.consent_sms},
              {"opted_out", f.opted_out},
              {"office", f.office},
              {"responsible", f.responsible},
              {"technician_name", f.technician_name},
              {"number", f.number},
              {"take_in_charge_by", f.take_in_charge_by},
              {"resolution_by", f.resolution_by},
              {"resolution_target", f.resolution_target},
              {"beneficiary_name", f.beneficiary_name},
              {"site", f.site},
              {"sla", s.sla},
              {"issued", s.issued}}
      .dump();
}

Result<StoredFacts> DecodeFacts(const std::string& row) {
  json j = json::parse(row, nullptr, false);
  if (!j.is_object()) {
    return Status::Corruption(
        "a notifier facts row is not a JSON object; drop the notifier state (delete "
        "<data_dir>/notifier) and it is rebuilt from the log");
  }
  StoredFacts s;
  CaseFacts& f = s.facts;
  f.tenant = Str(j, "tenant");
  f.case_code = Str(j, "case_code");
  f.procedure_name = Str(j, "procedure_name");
  f.subject = Str(j, "subject");
  f.applicant_name = Str(j, "applicant_name");
  f.term_text = Str(j, "term_text");
  f.email = Str(j, "email");
  f.mobile = Str(j, "mobile");
  f.consent_email = j.value("consent_email", false);
  f.consent_sms = j.value("consent_sms", false);
  f.opted_out = j.value("opted_out", false);
  f.office = j.value("office", json::object());
  f.responsible = j.value("responsible", json::object());
  f.technician_name = Str(j, "technician_name");
  f.number = Str(j, "number");
  f.take_in_charge_by = Str(j, "take_in_charge_by");
  f.resolution_by = Str(j, "resolution_by");
  f.resolution_target = Str(j, "resolution_target");
  f.beneficiary_name = Str(j, "beneficiary_name");
  f.site = Str(j, "site");
  s.sla = j.value("sla", json::object());
  s.issued = j.value("issued", uint64_t{0});
  return s;
}

std::string EncodePending(const PendingRow& p, const std::string& secret) {
  const OutgoingMessage& m = p.message;
  std::string subject = m.subject, body = m.body;
  if (m.password_issue > 0) {
    std::string pw = DerivePassword(secret, m.source_stream, m.password_issue);
    ReplaceAll(subject, pw, kPasswordMark);
    ReplaceAll(body, pw, kPasswordMark);
  }
  const std::string key = TicketKeyOf(m, p.tenant, secret);
  ReplaceAll(subject, key, kTicketKeyMark);
  ReplaceAll(body, key, kTicketKeyMark);
  return json{{"message_id", m.message_id},
              {"channel", m.channel},
              {"recipient", m.recipient},
              {"subject", subject},
              {"body", body},
              {"reply_to", m.reply_to},
              {"source_stream", m.source_stream},
              {"source_event_id", m.source_event_id},
              {"source_type", m.source_type},
              {"password_issue", m.password_issue},
              {"tenant", p.tenant},
              {"attempts", p.attempts},
              {"retry_at", Micros(p.retry_at)}}
      .dump();
}

Result<PendingRow> DecodePending(const std::string& row, const std::string& secret) {
  json j = json::parse(row, nullptr, false);
  if (!j.is_object() || Str(j, "message_id").empty()) {
    return Status::Corruption(
        "a notifier pending-message row is unreadable; drop the notifier state (delete "
        "<data_dir>/notifier) and it is rebuilt from the log");
  }
  PendingRow p;
  OutgoingMessage& m = p.message;
  m.message_id = Str(j, "message_id");
  m.channel = Str(j, "channel");
  m.recipient = Str(j, "recipient");
  m.subject = Str(j, "subject");
  m.body = Str(j, "body");
  m.reply_to = Str(j, "reply_to");
  m.source_stream = Str(j, "source_stream");
  m.source_event_id = Str(j, "source_event_id");
  m.source_type = Str(j, "source_type");
  m.password_issue = j.value("password_issue", uint64_t{0});
  if (m.password_issue > 0) {
    std::string pw = DerivePassword(secret, m.source_stream, m.password_issue);
    ReplaceAll(m.subject, kPasswordMark, pw);
    ReplaceAll(m.body, kPasswordMark, pw);
  }
  p.tenant = Str(j, "tenant");
  if (const std::string key = TicketKeyOf(m, p.tenant, secret); !key.empty()) {
    ReplaceAll(m.subject, kTicketKeyMark, key);
    ReplaceAll(m.body, kTicketKeyMark, key);
  }
  p.attempts = j.value("attempts", 0);
  p.retry_at = TimePoint(std::chrono::microseconds(j.value("retry_at", int64_t{0})));
  return p;
}

}  // namespace procedo::projections
