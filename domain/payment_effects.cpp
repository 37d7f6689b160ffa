// What a payment changes beyond its debt position, as rules of the streams it pays for: what
// each purpose must name (a top-up and an invoice an account, an invoice its period, an
// application fee the enrolment), the invoice a receipt settles (settle_invoice), and the
// application fee that must be paid before an enrolment is submitted (the catalogue's
// application_fee_cents of the services chosen; record_application_fee records the payment).
#include <fmt/format.h>

#include <algorithm>

#include "domain/payments.h"
#include "domain/services.h"

namespace procedo::domain {

using nlohmann::json;

int64_t ApplicationFeeDue(const ServiceCatalogue* services, const std::string& tenant,
                          const json& enrolment) {
  const TenantServices* catalogue = services ? services->ForTenant(tenant) : nullptr;
  const json chosen = enrolment.value("services", json::array());
  if (catalogue == nullptr || !chosen.is_array()) return 0;
  int64_t due = 0;
  for (const auto& id : chosen) {
    if (!id.is_string()) continue;
    const Service* s = catalogue->Find(id.get<std::string>());
    if (s != nullptr && s->application_fee_cents) due += *s->application_fee_cents;
  }
  return std::max<int64_t>(0, due - enrolment.value("fee_paid_cents", int64_t{0}));
}

namespace {

const json& Member(const json& j, const char* k) {
  static const json kNull;
  auto it = j.find(k);
  return it == j.end() ? kNull : *it;
}

DeciderOutcome SettleInvoice(const DecideContext& c) {
  DeciderOutcome out;
  const json& p = c.command.payload;
  const std::string period = p["period"];
  const std::string receipt = p["receipt_id"];
  const json& ledger = Member(c.state.derived, "account_ledger");
  const json& issued = Member(Member(ledger, "closed_periods"), period.c_str());
  if (!issued.is_number_integer()) {
    out.refusal = fmt::format(
        "no invoice of period {} on this position: a payment settles an invoice once it is "
        "issued (issue_invoice)",
        period);
    return out;
  }
  const json& settled = Member(Member(ledger, "settled_periods"), period.c_str());
  if (settled.is_string()) {
    if (settled == receipt) return out;  // the same payment again: nothing to do
    out.refusal = fmt::format(
        "the invoice of period {} is paid already (receipt {}): a second payment is an anomaly "
        "to refund, not a settlement",
        period, settled.get<std::string>());
    return out;
  }
  if (p["amount_cents"] != issued) {
    out.refusal = fmt::format(
        "the invoice of period {} is {} cents, the payment {} cents: settle "
        "it with its exact amount",
        period, issued.get<int64_t>(), p["amount_cents"].get<int64_t>());
    return out;
  }
  out.events.emplace_back("account.invoice_settled", p);
  return out;
}

}  // namespace

void RegisterPaymentEffectHooks(HookRegistry& hooks,
                                std::shared_ptr<const ServiceCatalogue> services) {
  hooks.AddGuard(
      "payment_names_what_it_pays", [](const DecideContext& c) -> std::optional<std::string> {
        const json& p = c.command.payload;
        const std::string purpose = p.value("purpose", "");
        const std::string reference = p.value("reference", "");
        const char* kind = purpose == "enrolment_fee" ? "enrolment-" : "account-";
        if (reference.rfind(kind, 0) != 0) {
          return fmt::format(
              "a position for '{}' names the {} it pays in reference "
              "({}<tenant>-...), not '{}'",
              purpose, purpose == "enrolment_fee" ? "enrolment" : "account", kind, reference);
        }
        if (purpose == "invoice" && !p.contains("period")) {
          return std::string(
              "a position for an invoice names the invoice's period (period: YYYY-MM "
              "or YYYY/YY)");
        }
        return std::nullopt;
      });
  hooks.AddDecider("invoice_settlement", SettleInvoice);
  hooks.AddGuard(
      "application_fee_paid", [services](const DecideContext& c) -> std::optional<std::string> {
        const int64_t due = ApplicationFeeDue(services.get(), c.state.tenant, c.state.fields);
        if (due == 0) return std::nullopt;
        return fmt::format(
            "the application fee of {} euro is not paid yet: pay its notice (pagoPA), then submit "
            "the application",
            CentsToEuro(due));
      });
}

}  // namespace procedo::domain
