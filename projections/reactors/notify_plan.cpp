#include "projections/reactors/notify_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "domain/access.h"
#include "domain/citizen.h"
#include "domain/italian_text.h"
#include "engine/base/url.h"

namespace procedo::projections {

using domain::OutcomeText;
using domain::Sha256;
using domain::ToHex;
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
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
  if (unit == "cd" || unit == "d")
    return n + (one ? " giorno di calendario" : " giorni di calendario");
  return target;
}

bool IsTicket(const std::string& stream) {
  return stream.rfind("ticket-", 0) == 0;
}
bool IsApplication(const std::string& stream) {
  return stream.rfind("voucher-", 0) == 0;
}
bool IsMailbox(const std::string& stream) {
  return stream.rfind("mailbox-", 0) == 0;
}
bool IsEnrolment(const std::string& stream) {
  return stream.rfind("enrolment-", 0) == 0;
}

// A size in bytes as Italian text, in MB with one decimal: "20,3 MB".
std::string MegabytesText(const json& bytes) {
  const double mb = bytes.is_number() ? bytes.get<double>() / (1024.0 * 1024.0) : 0;
  const long long tenths = std::llround(mb * 10);
  return fmt::format("{},{} MB", tenths / 10, tenths % 10);
}

std::string CentsText(long long cents) { return domain::ItalianEuro(cents); }

std::string EuroText(double amount) { return domain::ItalianEuro(std::llround(amount * 100)); }

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
  const domain::TenantCalendarInfo* tenant =
      ctx.tenants ? ctx.tenants->FindTenant(f.tenant) : nullptr;
  if (tenant != nullptr) {
    v["tenant_name"] = tenant->name;
    v["tenant_office_name"] = Str(tenant->office, "name");
    v["tenant_office_email"] = Str(tenant->office, "email");
  }
  if (IsTicket(stream)) {
    v["ticket"] = f.number.empty() ? domain::StreamNumber(stream, f.tenant) : f.number;
    v["take_in_charge_by"] = f.take_in_charge_by;
    v["resolution_by"] = f.resolution_by;
    v["resolution_target"] = f.resolution_target.empty() ? "" : TargetText(f.resolution_target);
    // The requester has no account: the link's key is what opens the ticket's page.
    const std::string key = ctx.ticket_key ? ctx.ticket_key(f.tenant, stream) : "";
    v["link"] = fmt::format("{}/ticket?{}", ctx.base_url,
                            UrlQuery({{"ente", f.tenant}, {"id", stream}, {"chiave", key}}));
  } else if (IsApplication(stream)) {
    // Applications have no citizen page: no link.
    v["application"] = domain::StreamNumber(stream, f.tenant);
  } else if (IsEnrolment(stream)) {
    // The application's page in the services portal, behind the citizen's own sign-in.
    v["application"] = domain::StreamNumber(stream, f.tenant);
    v["beneficiary_name"] = f.beneficiary_name;
    v["link"] = fmt::format("{}/servizi/iscrizioni/{}", ctx.base_url, UrlEncode(stream));
  } else {
    // Case codes are unique per Comune: the link names both, and the login page asks for the
    // password only.
    v["link"] = fmt::format("{}/pratica?{}", ctx.base_url,
                            UrlQuery({{"ente", f.tenant}, {"codice", f.case_code}}));
  }
  return v;
}

// `audience` picks the template's variant: "" for the citizen's (or the office's, for breaches),
// ".office" for the copy to the office of the stream's own tenant.
Status Render(const TemplateSet& templates, const std::string& type, const std::string& channel,
              const std::string& recipient, const TemplateVars& vars, const Event& e,
              const std::string& facts_stream, std::vector<OutgoingMessage>& out,
              uint64_t password_issue = 0, const std::string& audience = "") {
  const MessageTemplate* t = templates.Find(type + audience, channel);
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

// The Region's outcome on an application (approved, rejected, sent back): to the applicant who
// gave a contact and consent, and a copy to the office of the Comune that forwarded it.
Result<std::vector<OutgoingMessage>> PlanOutcome(const Event& e, const json& data,
                                                 const std::string& stream, const CaseFacts& f,
                                                 const TemplateSet& templates,
                                                 const PlanContext& ctx, TemplateVars& v) {
  std::vector<OutgoingMessage> out;
  v["reason"] = Str(data, e.type == "voucher.returned" ? "return_reason" : "reason");
  v["notes"] = Str(data, "note");
  if (auto a = data.find("amount"); a != data.end() && a->is_number()) {
    v["amount"] = EuroText(a->get<double>());
  }
  if (auto r = data.find("round"); r != data.end() && r->is_number_integer()) {
    v["round"] = std::to_string(r->get<int64_t>());
  }
  auto render = [&](const std::string& channel, const std::string& to,
                    const std::string& audience) {
    return Render(templates, e.type, channel, to, v, e, stream, out, 0, audience);
  };
  if (!f.opted_out && ctx.email && f.consent_email && !f.email.empty()) {
    if (Status s = render("email", f.email, ""); !s.ok()) return s;
  }
  if (!f.opted_out && ctx.sms && f.consent_sms && !f.mobile.empty()) {
    if (Status s = render("sms", f.mobile, ""); !s.ok()) return s;
  }
  if (ctx.email && !v["tenant_office_email"].empty()) {
    if (Status s = render("email", v["tenant_office_email"], ".office"); !s.ok()) return s;
  }
  return out;
}

}  // namespace

std::string MessageId(const std::string& event_id, const std::string& channel,
                      const std::string& recipient) {
  return ToHex(Sha256(event_id + "|" + channel + "|" + recipient)).substr(0, 32);
}

std::string FactsStream(const Event& e, const json& data) {
  if (e.type.rfind("citizen.", 0) == 0) return Str(data, "case_stream");
  if (e.stream.rfind("case-", 0) == 0 || IsTicket(e.stream) || IsApplication(e.stream) ||
      IsMailbox(e.stream) || IsEnrolment(e.stream)) {
    return e.stream;
  }
  // Of a service account only the alert is told: its other events (every meal) say nothing.
  if (e.type == "account.low_credit_reached") return e.stream;
  return "";
}

namespace {

Result<std::vector<OutgoingMessage>> Plan(const Event& e, const json& data,
                                          const std::string& stream, CaseFacts& f,
                                          const TemplateSet& templates, const PlanContext& ctx) {
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
    f.number = Str(data, "number");
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
  } else if (type == "voucher.entered" || type == "voucher.corrected") {
    f.tenant = e.tenant;
    // The applicant's contact and consent, as the application gives them; a correction may
    // replace either.
    if (auto a = data.find("applicant"); a != data.end() && a->is_object()) {
      f.applicant_name = Str(*a, "name");
      f.email = Str(*a, "email");
      f.mobile = Str(*a, "mobile");
    }
    if (auto c = data.find("consent"); c != data.end() && c->is_object()) {
      f.consent_email = c->value("email", false);
      f.consent_sms = c->value("sms", false);
    }
  } else if (type == "voucher.forwarded" && data.contains("office")) {
    // The catalogue entry frozen into the forwarding: the Region's office, told of breaches of
    // its term.
    f.procedure_name = Str(data, "procedure_name");
    f.term_text = Str(data, "term_text");
    f.office = data.value("office", json::object());
    f.responsible = data.value("responsible", json::object());
  } else if (type == "enrolment.started") {
    FoldEnrolmentStarted(e, data, f);
  } else if (type == "citizen.opted_out") {
    f.opted_out = true;
  }
  if ((type == "ticket.taken_in_charge" || type == "ticket.escalated" ||
       type == "ticket.reopened") &&
      !Str(data, "technician_name").empty()) {
    f.technician_name = Str(data, "technician_name");
  }

  TemplateVars v = Vars(stream, f, ctx);
  if (type == "mail.refused") {
    // The help desk's mailbox refused a message: its sender is told why, whoever they are.
    f.tenant = e.tenant;
    if (!ctx.email) return out;
    v["subject"] = Str(data, "subject");
    v["message_size"] = MegabytesText(data.value("size_bytes", json()));
    v["message_limit"] = MegabytesText(data.value("limit_bytes", json()));
    // The sender (sealed, when personal data is); a refusal recorded before senders were data
    // subjects names them in "to".
    const json& sender = data.contains("sender") ? data["sender"] : json::object();
    const std::string to = sender.contains("email") ? Str(sender, "email") : Str(data, "to");
    if (Status s = Render(templates, type, "email", to, v, e, stream, out); !s.ok()) return s;
    return out;
  }
  if (type == "account.low_credit_reached") {
    // The holder chose the channels and gave the addresses with the alert itself.
    f.tenant = e.tenant;
    v = Vars(stream, f, ctx);
    v["service_name"] = Str(data, "service_name");
    v["beneficiary_name"] = Str(data, "beneficiary_name");
    v["balance"] = CentsText(data.value("balance_cents", 0LL));
    v["threshold"] = CentsText(data.value("threshold_cents", 0LL));
    for (const auto& channel : data.value("channels", json::array())) {
      const bool email = channel == "email";
      const std::string to = Str(data, email ? "email" : "phone");
      if (to.empty() || !(email ? ctx.email : ctx.sms)) continue;
      if (Status s = Render(templates, type, email ? "email" : "sms", to, v, e, stream, out);
          !s.ok()) {
        return s;
      }
    }
    return out;
  }
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

  static const std::set<std::string> kOutcomes = {"voucher.approved", "voucher.rejected",
                                                  "voucher.returned"};
  if (kOutcomes.count(type)) return PlanOutcome(e, data, stream, f, templates, ctx, v);

  static const std::set<std::string> kCitizenTypes = {"case.started",
                                                      "case.suspended",
                                                      "case.integration_requested",
                                                      "case.resumed",
                                                      "case.closed",
                                                      "citizen.credentials_issued",
                                                      "ticket.opened",
                                                      "ticket.taken_in_charge",
                                                      "ticket.escalated",
                                                      "ticket.information_requested",
                                                      "ticket.resolved",
                                                      "ticket.closed",
                                                      "ticket.reopened",
                                                      "enrolment.admitted",
                                                      "enrolment.waitlisted",
                                                      "enrolment.rejected"};
  if (!kCitizenTypes.count(type) || f.opted_out) return out;
  if (IsEnrolment(stream)) AddEnrolmentVars(data, f, ctx, v);
  uint64_t password_issue = 0;
  if (type == "citizen.credentials_issued") {
    // The first issue travels in the start message; later ones are the office's resend.
    if (Str(data, "reason") != "resend") return out;
    password_issue = data.value("issue", uint64_t{0});
  }
  if (type == "case.started") password_issue = 1;
  if (password_issue > 0) v["password"] = ctx.password(stream, password_issue);
  v["reason"] = Str(data, type == "ticket.information_requested" ? "question" : "reason");
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

}  // namespace

Result<std::vector<OutgoingMessage>> PlanClosureNotice(const Event& e, const json& data,
                                                       const std::string& ticket_stream,
                                                       const CaseFacts& f,
                                                       const TemplateSet& templates,
                                                       const PlanContext& ctx) {
  std::vector<OutgoingMessage> out;
  if (!ctx.email || f.email.empty() || f.opted_out) return out;
  TemplateVars v = Vars(ticket_stream, f, ctx);
  v["reason"] = Str(data, "reason");
  v["closure_from"] = domain::ItalianDate(Str(data, "from"));
  v["closure_to"] = domain::ItalianDate(Str(data, "to"));
  if (Status s = Render(templates, e.type, "email", f.email, v, e, ticket_stream, out); !s.ok()) {
    return s;
  }
  auto box = ctx.reply_to.find(f.tenant);
  for (auto& m : out) {
    if (box != ctx.reply_to.end()) m.reply_to = box->second;
  }
  return out;
}

Result<std::vector<OutgoingMessage>> PlanMessages(const Event& e, const json& data,
                                                  const std::string& stream, CaseFacts& f,
                                                  const TemplateSet& templates,
                                                  const PlanContext& ctx) {
  auto out = Plan(e, data, stream, f, templates, ctx);
  // A ticket's mail is answered to the help desk's mailbox, which files the answer onto it.
  auto box = ctx.reply_to.find(f.tenant);
  if (out.ok() && (IsTicket(stream) || IsMailbox(stream)) && box != ctx.reply_to.end()) {
    for (auto& m : *out) {
      if (m.channel == "email") m.reply_to = box->second;
    }
  }
  return out;
}

}  // namespace procedo::projections
