// Seed 003's online payments through pagoPA: each Ente's settings (domain/payments/<tenant>.json,
// checked against schemas/payments.schema.json at load) and the debt position's hooks. A debt
// position (workflow payment_position) gets its IUV and notice number from the log, in the same
// append as its creation: the counter stream iuv-<tenant>-<segregation code> (one iuv.assigned
// per number, never reused, as pagoPA requires) gives the IUV base, payment_notice.h the digits.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

struct PaymentSettings {
  std::string creditor_fiscal_code;
  std::string creditor_name;
  std::string office;
  std::string info;
  std::string cbill;
  std::string segregation_code;
  uint64_t first_iuv_base = 1;
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

 private:
  std::map<std::string, PaymentSettings> tenants_;
};

// The counter stream of a station's IUVs.
std::string IuvCounterStream(const std::string& tenant, const std::string& segregation_code);

// The allocator "notice_number" of create_payment_position.
void RegisterPaymentHooks(HookRegistry& hooks, std::shared_ptr<const PaymentSettingsSet> settings);

}  // namespace procedo::domain
