// Payments through pagoPA in the portal and the console: the printable payment notice of a debt
// position (payment_notice.h), the citizen's top-up of a prepaid account (an amount typed in
// euro) and the application fee an application of theirs owes (the catalogue's amount). Each
// becomes create_payment_position as the citizen, through the one command path, whose allocator
// lets a citizen pay only for an account or an application of theirs.
#include <fmt/format.h>

#include <variant>

#include "adapters/command_service.h"
#include "adapters/http/view_query.h"
#include "adapters/web/console.h"
#include "adapters/web/payment_notice.h"
#include "adapters/web/portal.h"
#include "domain/calendars.h"
#include "domain/payments.h"
#include "domain/services.h"
#include "engine/base/url.h"
#include "engine/crypto/personal.h"
#include "engine/log/event.h"
#include "engine/workflow/command_handler.h"
#include "projections/views/payments.h"

namespace procedo::web {
namespace {

using nlohmann::json;

using projections::PaymentsProjection;

constexpr size_t kMaxListed = 100;  // an account's positions on its page, the oldest first
constexpr int kDueDays = 30;        // a top-up asked today may be paid for a month

StateOf Loader(http::Api& api) {
  return [&api](const std::string& stream) -> Result<std::shared_ptr<const WorkflowState>> {
    if (api.commands == nullptr) return Status::Unavailable("no command handler");
    return api.commands->Load(stream);
  };
}

// The tenant whose rows `who` reads: their own; an administrator's, the one the stream names.
std::string TenantFor(http::Api& api, const Principal& who, const std::string& stream) {
  if (!who.tenant.empty() || api.calendars == nullptr) return who.tenant;
  std::set<std::string> tenants;
  for (const auto& t : api.calendars->Tenants()) tenants.insert(t.id);
  return domain::TenantOfStreamId(stream, tenants);
}

PositionRowOf RowOf(http::Api& api, const std::string& tenant) {
  return [&api, tenant](const std::string& stream) -> Result<std::optional<json>> {
    if (api.views == nullptr) return Status::Unavailable("this server runs no projections");
    auto row =
        api.views->Get(PaymentsProjection::kName, PaymentsProjection::PositionKey(tenant, stream));
    if (!row.ok()) return row.status();
    if (!row->has_value()) return std::optional<json>();
    json j = json::parse(**row, nullptr, false);
    if (j.is_discarded()) return std::optional<json>();
    return std::optional<json>(std::move(j));
  };
}

Result<std::optional<json>> Position(http::Api& api, const Principal& who,
                                     const std::string& stream) {
  return ReadablePosition(who, stream, RowOf(api, TenantFor(api, who, stream)), Loader(api));
}

// The notice's data for `stream` as `who` may see it: nullopt when not theirs or missing.
Result<std::optional<json>> Notice(http::Api& api, const Principal& who, const std::string& stream,
                                   const std::function<std::string(const std::string&)>& label) {
  if (api.payments == nullptr || api.commands == nullptr) return std::optional<json>();
  auto row = Position(api, who, stream);
  if (!row.ok() || !row->has_value()) return row;
  const json& r = **row;
  const domain::PaymentSettings* settings = api.payments->ForTenant(r.value("tenant", ""));
  if (settings == nullptr) return std::optional<json>();
  json d = NoticeData(r, *settings, label(r.value("status", "")));
  d["reference"] = r.value("reference", "");
  return std::optional<json>(std::move(d));
}

http::Response ShowPortalNotice(const Portal& p, const http::Request& req, const StaffSession& s) {
  const std::string stream = req.params.at("id");
  // After the citizen's own top-up (?dopo=<its log position>) the view waits to have it.
  if (auto after = req.Query("dopo")) {
    http::Request wait;
    wait.query["min_position"] = *after;
    http::Response unused;
    if (p.api.views != nullptr) http::WaitForViews(p.api, wait, &unused);
  }
  auto notice = Notice(p.api, s.who, stream, [&p](const std::string& status) {
    return p.Label("states", status, "payment");
  });
  if (!notice.ok()) {
    return p.Error(
        503, "Servizio momentaneamente non disponibile",
        "Non riusciamo a leggere l'avviso in questo momento. Riprova tra qualche minuto.", req, &s);
  }
  if (!notice->has_value()) return p.NotFound(req, &s);
  json d = std::move(**notice);
  const std::string reference = d.value("reference", "");
  if (reference.starts_with("account-")) {
    d["back"] = "/servizi/posizioni/" + UrlEncode(reference);
    d["back_label"] = "Torna alla posizione";
  } else if (reference.starts_with("enrolment-")) {
    d["back"] = "/servizi/iscrizioni/" + UrlEncode(reference);
    d["back_label"] = "Torna alla domanda di iscrizione";
  } else {
    d["back"] = "/servizi";
    d["back_label"] = "I tuoi servizi";
  }
  const std::string done = req.Query("esito").value_or("");
  if (done == "ricarica") {
    d["done"] =
        "Fatto: la ricarica è stata chiesta. Paga con questo avviso; il credito arriva appena "
        "pagoPA ci conferma il pagamento.";
  } else if (done == "quota") {
    d["done"] =
        "Fatto: ecco l'avviso per la quota di iscrizione. Quando pagoPA ci conferma il "
        "pagamento potrai presentare la domanda.";
  }
  return p.Page(200, "payment_notice", "Avviso di pagamento", d, req, &s);
}

http::Response ShowConsoleNotice(const Console& c, const http::Request& req,
                                 const StaffSession& s) {
  const std::string stream = req.params.at("id");
  auto notice = Notice(c.api, s.who, stream,
                       [&c](const std::string& status) { return c.StateLabel("payment", status); });
  if (!notice.ok()) {
    return c.Error(
        503, "Servizio momentaneamente non disponibile",
        "Non riusciamo a leggere l'avviso in questo momento. Riprova tra qualche minuto.", req, &s);
  }
  if (!notice->has_value()) {
    return c.Error(404, "Pagina non trovata",
                   "Non esiste una posizione debitoria con questo identificativo tra quelle che "
                   "puoi consultare.",
                   req, &s);
  }
  json d = std::move(**notice);
  d["back"] = "/console/pratiche/" + UrlEncode(stream);
  d["back_label"] = "Torna alla posizione debitoria";
  return c.Page(200, "payment_notice", "Avviso di pagamento", d, req, &s);
}

// At most `bytes` bytes of `text`, never cutting a UTF-8 character in two.
std::string Clip(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// The debtor of a position the citizen asks for: herself, by the fiscal code her sign-in gave.
json Debtor(const StaffSession& s) {
  return {{"type", "F"},
          {"fiscal_code", s.fiscal_code},
          {"name", Clip(s.name.empty() ? std::string("Cittadino") : s.name, 70)}};
}

// A name for a payment's description, which pagoPA keeps and prints: none when the name is
// sealed personal data, which must not leave the log in clear.
std::string NameForNotice(const std::string& name) {
  return crypto::LooksPersonal(name) ? std::string() : name;
}

// What the notice says is paid (its subject, at most 90 characters in pagoPA's layout): the
// service and its beneficiary, as the account records them.
std::string Subject(const Portal& p, const std::string& account) {
  std::string subject = "Ricarica del credito";
  if (auto st = p.api.commands->Load(account); st.ok() && (*st)->exists()) {
    const json& f = (*st)->fields;
    const std::string service = f.value("service_name", ""),
                      who = NameForNotice(f.value("beneficiary_name", ""));
    if (!service.empty()) subject = "Ricarica " + service + (who.empty() ? "" : " - " + who);
  }
  return Clip(subject, 90);
}

// A top-up asked today may be paid for a month: its due date, the Ente's local day.
std::string DueDate(const Portal& p) {
  const TimePoint due = p.api.clock.Now() + std::chrono::days(kDueDays);
  return (p.zone ? p.zone->FormatLocal(due) : FormatTime(due)).substr(0, 10);
}

// The top-up's amount as typed: cents, or the Italian sentence that says what is wrong.
std::variant<int64_t, std::string> TopUpCents(const std::string& typed) {
  if (typed.find_first_not_of(" \t") == std::string::npos) {
    return std::string("Indica quanto vuoi ricaricare, in euro: ad esempio 20,00.");
  }
  const std::string cents = TypedEuroToCents(typed);
  if (cents == typed || cents.empty() || cents.find_first_not_of("0123456789") != cents.npos) {
    return std::string(
        "L'importo non è valido: scrivilo in euro con al massimo due decimali, ad esempio 20,00.");
  }
  const int64_t n = std::stoll(cents);
  // At most nine digits before the comma: pagoPA's largest amount, 999.999.999,99 €.
  if (n < 1) return std::string("L'importo deve essere maggiore di zero, ad esempio 20,00.");
  return n;
}

http::Response AskTopUp(const Portal& p, const http::Request& req, const StaffSession& s) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return p.Forbidden(req, &s);
  const std::string account = req.params.at("id");
  if (p.api.command_service == nullptr) return p.NotFound(req, &s);
  auto field = [&form](const char* name) {
    auto it = form->find(name);
    return it == form->end() ? std::string() : it->second;
  };
  TopUpOutcome o;
  o.typed = field("importo");
  // The form's own new id, so that sending it twice asks once (with its idempotency key).
  const std::string stream = field("flusso");
  if (!stream.starts_with("payment-" + s.who.tenant + "-") || !ValidateStreamId(stream).ok()) {
    return p.NotFound(req, &s);
  }
  auto cents = TopUpCents(o.typed);
  if (std::holds_alternative<std::string>(cents)) {
    o.error = std::get<std::string>(cents);
    return ShowAccount(p, req, s, &o, 422);
  }
  if (s.fiscal_code.empty()) {
    o.error =
        "Il tuo accesso non ci ha dato il codice fiscale: la ricarica on line non è "
        "possibile. Rivolgiti all'ufficio dei servizi scolastici.";
    return ShowAccount(p, req, s, &o, 422);
  }
  Command cmd;
  cmd.stream = stream;
  cmd.name = "create_payment_position";
  cmd.payload = {{"purpose", "top_up"},
                 {"reference", account},
                 {"description", Subject(p, account)},
                 {"amount_cents", std::get<int64_t>(cents)},
                 {"due_date", DueDate(p)},
                 {"debtor", Debtor(s)}};
  if (const std::string key = field("chiave"); !key.empty()) cmd.idempotency_key = "portal-" + key;
  CommandReply reply = p.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("/servizi/pagamenti/{}?esito=ricarica&dopo={}", UrlEncode(stream),
                                reply.body.value("position", uint64_t{0})));
  }
  const Problem& problem = *reply.problem;
  if (problem.status == 404 || problem.status == 403 || problem.type == "reference-missing") {
    return p.NotFound(req, &s);
  }
  if (problem.type == "version-conflict" || problem.status == 409) {
    o.error =
        "Nel frattempo è stata chiesta un'altra ricarica: controlla l'elenco dei pagamenti "
        "e, se serve, chiedila di nuovo.";
  } else if (problem.status == 422) {
    o.error = "La ricarica non è possibile per questa posizione.";
  } else {
    o.error = "Non è stato possibile chiedere la ricarica. Riprova tra qualche minuto.";
  }
  return ShowAccount(p, req, s, &o, problem.status >= 500 ? 503 : problem.status);
}

// What the notice says the fee pays: the services chosen and who will use them.
std::string FeeSubject(const Portal& p, const WorkflowState& enrolment) {
  std::string names;
  const domain::TenantServices* catalogue =
      p.api.services ? p.api.services->ForTenant(enrolment.tenant) : nullptr;
  for (const auto& id : enrolment.fields.value("services", json::array())) {
    if (!id.is_string()) continue;
    const domain::Service* service = catalogue ? catalogue->Find(id.get<std::string>()) : nullptr;
    if (service == nullptr || !service->application_fee_cents) continue;
    names += (names.empty() ? "" : ", ") + service->name;
  }
  const std::string who = NameForNotice(
      enrolment.fields.value("beneficiary", json::object()).value("name", std::string()));
  return Clip("Quota di iscrizione " + names + (who.empty() ? "" : " - " + who), 90);
}

http::Response AskFee(const Portal& p, const http::Request& req, const StaffSession& s) {
  auto form = ParseForm(req.body);
  if (!form || !CsrfValid(req, *form)) return p.Forbidden(req, &s);
  const std::string enrolment = req.params.at("id");
  if (p.api.command_service == nullptr || !enrolment.starts_with("enrolment-") ||
      !http::MayRead(p.api, s.who, enrolment)) {
    return p.NotFound(req, &s);
  }
  auto state = p.api.commands->Load(enrolment);
  if (!state.ok() || !(*state)->exists()) return p.NotFound(req, &s);
  auto field = [&form](const char* name) {
    auto it = form->find(name);
    return it == form->end() ? std::string() : it->second;
  };
  const std::string stream = field("flusso");
  if (!stream.starts_with("payment-" + s.who.tenant + "-") || !ValidateStreamId(stream).ok()) {
    return p.NotFound(req, &s);
  }
  auto again = [&](const std::string& error, int status) {
    return ShowApplicationWithFeeError(p, req, s, error, status);
  };
  if (s.fiscal_code.empty()) {
    return again(
        "Il tuo accesso non ci ha dato il codice fiscale: il pagamento on line non è possibile. "
        "Rivolgiti all'ufficio dei servizi scolastici.",
        422);
  }
  Command cmd;
  cmd.stream = stream;
  cmd.name = "create_payment_position";
  cmd.payload = {{"purpose", "enrolment_fee"},
                 {"reference", enrolment},
                 {"description", FeeSubject(p, **state)},
                 {"amount_cents",
                  domain::ApplicationFeeDue(p.api.services, (*state)->tenant, (*state)->fields)},
                 {"due_date", DueDate(p)},
                 {"debtor", Debtor(s)}};
  if (const std::string key = field("chiave"); !key.empty()) cmd.idempotency_key = "portal-" + key;
  CommandReply reply = p.api.command_service->Execute(s.who, cmd);
  if (reply.accepted()) {
    return SeeOther(fmt::format("/servizi/pagamenti/{}?esito=quota&dopo={}", UrlEncode(stream),
                                reply.body.value("position", uint64_t{0})));
  }
  const Problem& problem = *reply.problem;
  if (problem.status == 404 || problem.status == 403 || problem.type == "reference-missing") {
    return p.NotFound(req, &s);
  }
  if (problem.status >= 500) {
    return again("Non è stato possibile chiedere l'avviso. Riprova tra qualche minuto.", 503);
  }
  return again(
      "La domanda non deve più una quota di iscrizione: è già pagata o la domanda è cambiata "
      "nel frattempo. Controlla la pagina aggiornata.",
      problem.status);
}

// The positions asked to pay for `reference`, as the portal lists them, the oldest first.
json PaymentsFor(const Portal& p, const StaffSession& s, const std::string& reference) {
  json out = json::array();
  if (p.api.views == nullptr) return out;
  auto streams = p.api.views->Scan(PaymentsProjection::kName,
                                   PaymentsProjection::ByReferencePrefix(s.who.tenant, reference),
                                   "", kMaxListed);
  for (const auto& item : streams.ok() ? *streams : std::vector<ViewRow>{}) {
    const json named = json::parse(item.value, nullptr, false);
    if (!named.is_string()) continue;
    const std::string stream = named.get<std::string>();
    auto row = Position(p.api, s.who, stream);
    if (!row.ok() || !row->has_value()) continue;
    const json& r = **row;
    const std::string status = r.value("status", "");
    out.push_back({{"href", "/servizi/pagamenti/" + UrlEncode(stream)},
                   {"what", r.value("description", "")},
                   {"amount", NoticeAmount(r.value("amount_cents", 0LL))},
                   {"due", NoticeDate(r.value("due_date", ""))},
                   {"state", p.Label("states", status, "payment")},
                   {"paid", status == "paid"},
                   {"open", status == "created" || status == "published"}});
  }
  return out;
}

}  // namespace

json ApplicationFee(const Portal& p, const StaffSession& s, const WorkflowState& enrolment,
                    const std::string& error) {
  if (p.api.payments == nullptr || p.api.commands == nullptr ||
      p.api.payments->ForTenant(enrolment.tenant) == nullptr) {
    return nullptr;
  }
  const int64_t due = domain::ApplicationFeeDue(p.api.services, enrolment.tenant, enrolment.fields);
  const int64_t paid = enrolment.fields.value("fee_paid_cents", int64_t{0});
  const bool before_submission =
      enrolment.status == "draft" || enrolment.status == "details_completed";
  if (paid == 0 && (due == 0 || !before_submission)) return nullptr;
  json fee = {{"payments", PaymentsFor(p, s, enrolment.stream)}};
  fee["has_payments"] = !fee["payments"].empty();
  if (paid > 0) fee["paid"] = NoticeAmount(paid);
  if (due > 0 && before_submission) {
    fee["due"] = NoticeAmount(due);
    bool open = false;
    for (const auto& row : fee["payments"]) open = open || row.value("open", false);
    // One notice at a time: while one is payable the page offers it, not a second.
    if (!open) {
      fee["ask"] = {
          {"action", fmt::format("/servizi/iscrizioni/{}/quota", UrlEncode(enrolment.stream))},
          {"stream", fmt::format("payment-{}-{}", s.who.tenant, RandomHex(6))},
          {"key", RandomHex(16)},
          {"no_fiscal_code", s.fiscal_code.empty()}};
    }
  }
  if (!error.empty()) fee["refused"] = error;
  return fee;
}

json AccountPayments(const Portal& p, const StaffSession& s, const std::string& account,
                     bool open_prepaid, const TopUpOutcome* outcome) {
  json out = {{"payments", json::array()}};
  if (p.api.payments == nullptr || p.api.commands == nullptr ||
      p.api.payments->ForTenant(s.who.tenant) == nullptr) {
    return out;
  }
  out["payments"] = PaymentsFor(p, s, account);
  out["has_payments"] = !out["payments"].empty();
  if (open_prepaid) {
    json f = {{"action", fmt::format("/servizi/posizioni/{}/ricarica", UrlEncode(account))},
              {"stream", fmt::format("payment-{}-{}", s.who.tenant, RandomHex(6))},
              {"key", RandomHex(16)},
              {"amount", outcome ? outcome->typed : ""},
              {"no_fiscal_code", s.fiscal_code.empty()}};
    if (outcome && !outcome->error.empty()) f["error"] = outcome->error;
    out["top_up"] = f;
  }
  return out;
}

void AddPaymentPages(http::Router& router, std::shared_ptr<Portal> portal) {
  AddPageRoute(router, "/servizi/pagamenti/{id}", PortalPage(portal, &ShowPortalNotice),
               /*blocking=*/true);
  router.Add("POST", "/servizi/posizioni/{id}/ricarica", PortalPage(portal, &AskTopUp),
             /*blocking=*/true);
  router.Add("POST", "/servizi/iscrizioni/{id}/quota", PortalPage(portal, &AskFee),
             /*blocking=*/true);
}

void AddConsolePaymentPages(http::Router& router, std::shared_ptr<Console> console) {
  AddPageRoute(router, "/console/pagamenti/{id}/avviso", StaffPage(console, &ShowConsoleNotice),
               /*blocking=*/true);
}

}  // namespace procedo::web
