#include "domain/payments.h"

#include <fmt/format.h>

#include "domain/access.h"
#include "domain/payment_notice.h"
#include "domain/tenant_files.h"

namespace procedo::domain {

using nlohmann::json;

Result<PaymentSettingsSet> PaymentSettingsSet::LoadDir(const std::string& dir,
                                                       const std::string& schema_path,
                                                       const std::set<std::string>& tenants) {
  PaymentSettingsSet out;
  Status st = ForEachTenantFile(
      dir, schema_path, tenants, "pagoPA settings",
      [&out](const std::string&, const std::string& tenant, const json& doc, std::string*) {
        const json& c = doc["creditor"];
        PaymentSettings s;
        s.creditor_fiscal_code = c["fiscal_code"];
        s.creditor_name = c["name"];
        s.office = c.value("office", "");
        s.info = c.value("info", "");
        s.cbill = c["cbill"];
        s.segregation_code = doc["segregation_code"];
        s.first_iuv_base = doc.value("first_iuv_base", uint64_t{1});
        s.expire_at_due_date = doc.value("expire_at_due_date", false);
        s.iban = doc["iban"];
        for (const auto& [purpose, code] : doc["categories"].items()) s.categories[purpose] = code;
        out.tenants_.emplace(tenant, std::move(s));
      });
  if (!st.ok()) return st;
  return out;
}

const PaymentSettings* PaymentSettingsSet::ForTenant(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : &it->second;
}

std::vector<std::string> PaymentSettingsSet::Tenants() const {
  std::vector<std::string> out;
  for (const auto& [tenant, settings] : tenants_) out.push_back(tenant);
  return out;
}

namespace {

std::string NoSettings(const std::string& tenant) {
  return fmt::format(
      "{} takes no payments through pagoPA: add its settings as domain/payments/{}.json "
      "(schemas/payments.schema.json)",
      tenant, tenant);
}

// What a citizen may ask for, judged by the rule that lets them read the stream paid for
// (domain/access.h): a top-up of an open prepaid account of theirs, or the application fee an
// enrolment of theirs still owes before its submission, for exactly what it owes (the catalogue
// sets the fee, not the person paying it). Someone else's account or enrolment, another Ente's,
// or none at all is answered alike, so that the answer never tells that it exists.
Status CheckCitizenPayment(const DecideContext& c, const std::string& tenant, const json& data,
                           const ServiceCatalogue* services) {
  const std::string purpose = data.value("purpose", "");
  if (purpose != "top_up" && purpose != "enrolment_fee") {
    return Status::PermissionDenied(
        "a citizen may ask only for a top-up (purpose top_up) of a prepaid account of theirs or "
        "for the application fee (purpose enrolment_fee) of an application of theirs; the Ente "
        "issues every other debt position");
  }
  const bool fee = purpose == "enrolment_fee";
  const std::string reference = data.value("reference", "");
  const Status missing =
      Status::InvalidArgument(fmt::format("{} {} is not one of yours; name it as its page shows it",
                                          fee ? "application" : "account", reference),
                              Status::SubCode::kReferenceMissing);
  if (!reference.starts_with(fee ? "enrolment-" : "account-")) return missing;
  if (c.state_of == nullptr) {
    return Status::Unavailable("the stream paid for could not be read; send the command again");
  }
  auto state = (*c.state_of)(reference);
  if (!state.ok() && !state.status().IsInvalidArgument()) return state.status();
  const Principal who{c.actor.id, c.actor.role, c.actor.tenant};
  if (!state.ok() || !(*state)->exists() || (*state)->tenant != tenant ||
      !MayRead(who, FactsOf(**state))) {
    return missing;
  }
  const json& f = (*state)->fields;
  if (!fee) {
    if (f.value("regime", "") != "prepaid" || (*state)->status != "open") {
      return Status::InvalidArgument(
          fmt::format("account {} takes no top-ups: it is not an open prepaid account", reference));
    }
    return Status::Ok();
  }
  const std::string& status = (*state)->status;
  const int64_t due = ApplicationFeeDue(services, tenant, f);
  if ((status != "draft" && status != "details_completed") || due == 0) {
    return Status::InvalidArgument(fmt::format(
        "application {} owes no application fee (none is due for its services, it is paid, or "
        "the application is submitted already)",
        reference));
  }
  if (data.value("amount_cents", int64_t{0}) != due) {
    return Status::InvalidArgument(fmt::format(
        "the application fee application {} owes is {} euro: ask for exactly that amount",
        reference, CentsToEuro(due)));
  }
  return Status::Ok();
}

}  // namespace

std::string IuvCounterStream(const std::string& tenant, const std::string& segregation_code) {
  return fmt::format("iuv-{}-{}", tenant, segregation_code);
}

void RegisterPaymentHooks(HookRegistry& hooks, std::shared_ptr<const PaymentSettingsSet> settings,
                          std::shared_ptr<const ServiceCatalogue> services) {
  RegisterPaymentReceiptHooks(hooks);
  // Decided before anything is allocated: an Ente without a pagoPA station has no debt positions.
  hooks.AddGuard("takes_pagopa_payments",
                 [settings](const DecideContext& c) -> std::optional<std::string> {
                   const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
                   if (settings && settings->ForTenant(tenant) != nullptr) return std::nullopt;
                   return NoSettings(tenant);
                 });
  hooks.AddAllocator(
      "notice_number",
      [settings, services](const StreamVersionOf& version_of, const DecideContext& c,
                           const std::string&, json& data,
                           std::vector<AllocatedEvent>* also) -> Status {
        const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
        const PaymentSettings* s = settings ? settings->ForTenant(tenant) : nullptr;
        if (s == nullptr) {
          // The guard takes_pagopa_payments refuses this first; a workflow without it lands here.
          return Status::InvalidArgument(NoSettings(tenant), Status::SubCode::kReferenceMissing);
        }
        if (c.actor.role == "citizen") {
          if (Status st = CheckCitizenPayment(c, tenant, data, services.get()); !st.ok()) {
            return st;
          }
        }
        const std::string purpose = data.value("purpose", "");
        auto category = s->categories.find(purpose);
        if (category == s->categories.end()) {
          return Status::InvalidArgument(fmt::format(
              "no pagoPA category for purpose '{}' in domain/payments/{}.json", purpose, tenant));
        }
        const std::string counter = IuvCounterStream(tenant, s->segregation_code);
        auto version = version_of(counter);
        if (!version.ok()) return version.status();
        auto number = IssueNoticeNumber(s->segregation_code, s->first_iuv_base + *version);
        if (!number.ok()) return number.status();
        data["notice_number"] = number->digits();
        data["iuv"] = number->Iuv();
        // The position's id at pagoPA: the Ente's fiscal code and the stream, the same on every
        // retry of its publication.
        data["iupd"] = fmt::format("{}-{}", s->creditor_fiscal_code, c.state.stream);
        data["creditor_fiscal_code"] = s->creditor_fiscal_code;
        data["transfers"] = json::array({{{"id", "1"},
                                          {"amount_cents", data.value("amount_cents", 0)},
                                          {"iban", s->iban},
                                          {"category", category->second}}});
        also->push_back(
            {counter, *version, "iuv.assigned",
             json{{"claimed_by", c.state.stream}, {"notice_number", number->digits()}}});
        return Status::Ok();
      });
}

}  // namespace procedo::domain
