// Payments through pagoPA as `procedo serve` runs them: one GPD client per station (the default
// pagopa.* connection, and each Ente's own under pagopa.tenants.<tenant>) and the payments reactor.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "adapters/config.h"
#include "adapters/pagopa/gpd_client.h"
#include "projections/reactors/payments.h"

namespace procedo::pagopa {

struct PaymentsService {
  std::map<std::string, std::unique_ptr<GpdClient>> clients;  // by base URLs and key
  std::map<std::string, GpdClient*> by_tenant;                // the tenants a station serves
  std::unique_ptr<projections::PaymentsReactor> reactor;      // null: payments are off
  std::string summary;  // one line for serve: where, or why not; never the key
};

// Refuses to start on a connection half set (a base URL without the other or without a key), a
// key file that cannot be read, or pagopa.tenants naming an Ente without domain/payments/ settings.
Result<std::unique_ptr<PaymentsService>> StartPaymentsService(
    const Config& cfg, CommandHandler& commands,
    std::shared_ptr<const domain::PaymentSettingsSet> settings, projections::Waiter& waiter,
    const crypto::PersonalData* personal = nullptr);

}  // namespace procedo::pagopa
