// Seed 003's online payments through pagoPA: each Ente's settings (domain/payments/<tenant>.json,
// checked against schemas/payments.schema.json at load) and the debt position's hooks. A debt
// position (workflow payment_position) gets its IUV and notice number from the log, in the same
// append as its creation: the counter stream iuv-<tenant>-<segregation code> (one iuv.assigned
// per number, never reused, as pagoPA requires) gives the IUV base, payment_notice.h the digits.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

class ServiceCatalogue;

struct PaymentSettings {
  std::string creditor_fiscal_code;
  std::string creditor_name;
  std::string office;
  std::string info;
  std::string cbill;
  std::string segregation_code;
  uint64_t first_iuv_base = 1;
  bool expire_at_due_date = false;  // pagoPA's switchToExpired
  std::string iban;
  std::map<std::string, std::string> categories;  // purpose -> taxonomy code
};

class PaymentSettingsSet {
 public:
  // Every <tenant>.json of `dir` (none: no Ente takes payments); a file of a tenant tenants.json
  // does not name, or one its schema refuses, fails the load with every problem listed.
  static Result<PaymentSettingsSet> LoadDir(const std::string& dir, const std::string& schema_path,
                                            const std::set<std::string>& tenants);
  const PaymentSettings* ForTenant(const std::string& tenant) const;
  // The tenants that take payments, in order.
  std::vector<std::string> Tenants() const;

 private:
  std::map<std::string, PaymentSettings> tenants_;
};

// The counter stream of a station's IUVs.
std::string IuvCounterStream(const std::string& tenant, const std::string& segregation_code);

// pagoPA's amounts in euro with two decimals ("120.00"), as integer cents and back; nullopt for
// anything else (a float is never involved).
std::optional<int64_t> EuroToCents(std::string_view amount);
std::string CentsToEuro(int64_t cents);

// The last second of a due date (YYYY-MM-DD, the Ente's local day in Europe/Rome) as pagoPA takes
// it: UTC, without a zone ("2026-12-31" -> "2026-12-31T22:59:59", "2026-07-31" ->
// "2026-07-31T21:59:59"). Empty for a date that is not one.
std::string DueInstantUtc(const std::string& date);

// The application fee an enrolment still owes (its fields): the catalogue's
// application_fee_cents of the services it chose, less what its receipts paid; 0 when none.
int64_t ApplicationFeeDue(const ServiceCatalogue* services, const std::string& tenant,
                          const nlohmann::json& enrolment);

// The account movement a paid top-up becomes: named after its receipt, so the ledger takes one
// payment once whatever path brings it.
std::string PaymentMovementId(const std::string& receipt_id);
// The stream of a receipt for a notice the tenant's positions do not hold (workflow
// unmatched_receipt): one per receipt id.
std::string UnmatchedReceiptStream(const std::string& tenant, const std::string& receipt_id);

// The allocator "notice_number" of create_payment_position, and the receipts' hooks.
// A citizen may ask only for a top-up of a prepaid account of theirs or for the application fee
// an enrolment of theirs still owes (exactly that amount).
void RegisterPaymentHooks(HookRegistry& hooks, std::shared_ptr<const PaymentSettingsSet> settings,
                          std::shared_ptr<const ServiceCatalogue> services);

// What a payment changes elsewhere (payment_effects.cpp): the purpose's reference checked at
// creation, settle_invoice's decider, the application fee due before an enrolment's submission.
void RegisterPaymentEffectHooks(HookRegistry& hooks,
                                std::shared_ptr<const ServiceCatalogue> services);

// record_receipt's decider "payment_receipt", settle_payment_anomaly's, and the reducer that keeps
// a position's receipts and open anomalies (payment_receipts.cpp).
void RegisterPaymentReceiptHooks(HookRegistry& hooks);

}  // namespace procedo::domain
