#include "projections/reactors/notify_plan.h"

#include <fmt/format.h>

#include <set>

#include "domain/citizen.h"

namespace procedo::projections {

using domain::Sha256;
using domain::ToHex;
using domain::OutcomeText;
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// An SLA target in the workflows' notation ("30m", "6h", "3bd", "60cd", "20d") read out in
// Italian; anything else as written.
std::string TargetText(const std::string& target) {
  size_t digits = 0;
  while (digits < target.size() && std::isdigit(static_cast<unsigned char>(target[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits > 9) return target;
  std::string n = target.substr(0, digits), unit = target.substr(digits);
  bool one = n == "1";
  if (unit == "m") return n + (one ? " minuto lavorativo" : " minuti lavorativi");
  if (unit == "h") return n + (one ? " ora lavorativa" : " ore lavorative");
  if (unit == "bd") return n + (one ? " giorno lavorativo" : " giorni lavorativi");
  if (unit == "cd" || unit == "d") return n + (one ? " giorno di calendario" : " giorni di calendario");
  return target;
}

bool IsTicket(const std::string& stream) { return stream.rfind("ticket-", 0) == 0; }

TemplateVars Vars(const std::string& stream, const CaseFacts& f, const PlanContext& ctx) {
  TemplateVars v;
  for (const auto& n : TemplateSet::KnownPlaceholders()) v[n] = "";
  v["stream"] = stream;
  v["case_code"] = f.case_code;
  v["procedure_name"] = f.procedure_name;
  v["subject"] = f.subject;
  v["applicant_name"] = f.applicant_name;
  v["term_text"] = f.term_text;
  v["office_name"] = Str(f.office, "name");
  v["office_phone"] = Str(f.office, "phone");
  v["office_email"] = Str(f.office, "email");
  v["responsible_name"] = Str(f.responsible, "name");
  v["responsible_phone"] = Str(f.responsible, "phone");
  v["responsible_email"] = Str(f.responsible, "email");
  v["technician_name"] = f.technician_name;
  if (IsTicket(stream)) {
    // What a person quotes on the phone: the id after "ticket-<tenant>-".
    std::string number = stream.substr(7);
    if (!f.tenant.empty() && number.starts_with(f.tenant + "-")) number.erase(0, f.tenant.size() + 1);
    v["ticket"] = number;
    v["link"] = fmt::format("{}/ticket/{}", ctx.base_url, UrlEncode(stream));
  } else {
    // Case codes are unique per Comune: the link names both, and the login page asks for the
    // password only.
    v["link"] = fmt::format("{}/pratica?ente={}&codice={}", ctx.base_url, UrlEncode(f.tenant),
                            UrlEncode(f.case_code));
  }
  return v;
}

Status Render(const TemplateSet& templates, const std::string& type, const std::string& channel,
              const std::string& recipient, const TemplateVars& vars, const Event& e,
              const std::string& facts_stream, std::vector<OutgoingMessage>& out,
              uint64_t password_issue = 0) {
  const MessageTemplate* t = templates.Find(type, channel);
  if (t == nullptr) return Status::Ok();  // no template: this channel says nothing of the event
  OutgoingMessage m;
  m.channel = channel;
  m.recipient = recipient;
  std::string id = UuidToString(e.id);
  m.message_id = MessageId(id, channel, recipient);
  auto subject = RenderTemplate(t->subject, vars);
  auto body = RenderTemplate(t->body, vars);
  if (!subject.ok()) return subject.status();
  if (!body.ok()) return body.status();
  m.subject = std::move(subject).value();
  m.body = std::move(body).value();
  m.source_stream = facts_stream;
  m.source_event_id = id;
  m.source_type = type;
  m.password_issue = password_issue;
  out.push_back(std::move(m));
  return Status::Ok();
}

}  // namespace

std::string MessageId(const std::string& event_id, const std::string& channel,
                      const std::string& recipient) {
  return ToHex(Sha256(event_id + "|" + channel + "|" + recipient)).substr(0, 32);
}

std::string FactsStream(const Event& e, const json& data) {
  if (e.type.rfind("citizen.", 0) == 0) return Str(data, "case_stream");
  if (e.stream.rfind("case-", 0) == 0 || IsTicket(e.stream)) return e.stream;
  return "";
}

Result<std::vector<OutgoingMessage>> PlanMessages(const Event& e, const json& data,
                                                  const std::string& stream, CaseFacts& f,
                                                  const TemplateSet& templates,
                                                  const PlanContext& ctx) {
  std::vector<OutgoingMessage> out;
  const std::string& type = e.type;
  // Facts first, so that a message renders with what its own event says.
  if (type == "case.started") {
    f.tenant = e.tenant;
    f.case_code = Str(data, "case_code");
    f.procedure_name = Str(data, "procedure_name");
    f.subject = Str(data, "subject");
    f.term_text = Str(data, "term_text");
    const json& a = data.contains("applicant") ? data["applicant"] : json::object();
    f.applicant_name = Str(a, "name");
    f.email = Str(a, "email");
    f.mobile = Str(a, "mobile");
    const json& c = data.contains("consent") ? data["consent"] : json::object();
    f.consent_email = c.value("email", false);
    f.consent_sms = c.value("sms", false);
    f.office = data.value("office", json::object());
    f.responsible = data.value("responsible", json::object());
  } else if (type == "ticket.opened") {
    f.tenant = e.tenant;
    f.subject = Str(data, "subject");
    const json& c = data.contains("contact") ? data["contact"] : json::object();
    // Seed 004: the help desk tells whoever left a contact; giving it is the consent.
    f.email = Str(c, "email");
    f.mobile = Str(c, "phone");
    f.consent_email = !f.email.empty();
    f.consent_sms = !f.mobile.empty();
    if (auto it = ctx.catalogue_by_kind.find("ticket"); it != ctx.catalogue_by_kind.end()) {
      f.office = it->second.value("office", json::object());
      f.responsible = it->second.value("responsible", json::object());
    }
  } else if (type == "citizen.opted_out") {
    f.opted_out = true;
  }
  if ((type == "ticket.taken_in_charge" || type == "ticket.escalated" ||
       type == "ticket.reopened") &&
      !Str(data, "technician_name").empty()) {
    f.technician_name = Str(data, "technician_name");
  }

  TemplateVars v = Vars(stream, f, ctx);
  if (type == "sla.breached") {
    std::string to = Str(f.office, "email");
    if (to.empty()) to = ctx.sla_fallback_email;
    if (to.empty() || !ctx.email) return out;
    v["clock"] = Str(data, "clock");
    v["target"] = Str(data, "target");
    v["target_text"] = TargetText(v["target"]);
    v["deadline"] = Str(data, "deadline");
    if (Status s = Render(templates, type, "email", to, v, e, stream, out); !s.ok()) return s;
    return out;
  }

  static const std::set<std::string> kCitizenTypes = {
      "case.started",   "case.suspended",         "case.integration_requested",
      "case.resumed",   "case.closed",            "citizen.credentials_issued",
      "ticket.taken_in_charge", "ticket.escalated", "ticket.resolved",
      "ticket.closed"};
  if (!kCitizenTypes.count(type) || f.opted_out) return out;
  uint64_t password_issue = 0;
  if (type == "citizen.credentials_issued") {
    // The first issue travels in the start message; later ones are the office's resend.
    if (Str(data, "reason") != "resend") return out;
    password_issue = data.value("issue", uint64_t{0});
  }
  if (type == "case.started") password_issue = 1;
  if (password_issue > 0) v["password"] = ctx.password(stream, password_issue);
  v["reason"] = Str(data, "reason");
  v["outcome"] = OutcomeText(Str(data, "outcome"));
  v["solution"] = Str(data, "solution");
  v["notes"] = Str(data, "note");
  if (auto docs = data.find("documents"); docs != data.end() && docs->is_array()) {
    std::string list;
    for (const auto& d : *docs) {
      if (!d.is_string()) continue;
      list += (list.empty() ? "" : "; ") + d.get<std::string>();
    }
    v["documents"] = list;
  }
  if (ctx.email && f.consent_email && !f.email.empty()) {
    if (Status s = Render(templates, type, "email", f.email, v, e, stream, out, password_issue);
        !s.ok()) {
      return s;
    }
  }
  if (ctx.sms && f.consent_sms && !f.mobile.empty()) {
    if (Status s = Render(templates, type, "sms", f.mobile, v, e, stream, out, password_issue);
        !s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace procedo::projections
