// Payments through pagoPA as `procedo serve` runs them: the GPD client and the payments reactor,
// from the pagopa.* settings.
#pragma once

#include <memory>
#include <string>

#include "adapters/config.h"
#include "adapters/pagopa/gpd_client.h"
#include "projections/reactors/payments.h"

namespace procedo::pagopa {

struct PaymentsService {
  std::unique_ptr<GpdClient> client;
  std::unique_ptr<projections::PaymentsReactor> reactor;  // null: payments are off
  std::string summary;  // one line for serve: where, or why not; never the key
};

Result<std::unique_ptr<PaymentsService>> StartPaymentsService(
    const Config& cfg, CommandHandler& commands,
    std::shared_ptr<const domain::PaymentSettingsSet> settings, projections::Waiter& waiter);

}  // namespace procedo::pagopa
