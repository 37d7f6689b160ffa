#include "adapters/pagopa/service.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace procedo::pagopa {

Result<std::unique_ptr<PaymentsService>> StartPaymentsService(
    const Config& cfg, CommandHandler& commands,
    std::shared_ptr<const domain::PaymentSettingsSet> settings, projections::Waiter& waiter) {
  auto svc = std::make_unique<PaymentsService>();
  if (!cfg.pagopa_enabled || cfg.pagopa_positions_url.empty()) {
    svc->summary = cfg.pagopa_enabled ? "no pagoPA payments (pagopa.positions_url is empty)"
                                      : "no pagoPA payments (pagopa.enabled = false)";
    return svc;
  }
  GpdOptions o;
  o.positions_url = cfg.pagopa_positions_url;
  o.receipts_url = cfg.pagopa_receipts_url;
  o.subscription_key = cfg.pagopa_subscription_key;
  if (!cfg.pagopa_subscription_key_file.empty()) {
    std::ifstream in(cfg.pagopa_subscription_key_file);
    if (!in) {
      return Status::InvalidArgument(fmt::format(
          "pagopa.subscription_key_file '{}' cannot be read; give a readable file holding the "
          "key pagoPA issued to the Ente",
          cfg.pagopa_subscription_key_file));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    o.subscription_key = ss.str();
    while (!o.subscription_key.empty() &&
           std::isspace(static_cast<unsigned char>(o.subscription_key.back()))) {
      o.subscription_key.pop_back();
    }
  }
  if (o.receipts_url.empty() || o.subscription_key.empty()) {
    return Status::InvalidArgument(
        "pagopa.positions_url is set but pagopa.receipts_url or the subscription key "
        "(pagopa.subscription_key or pagopa.subscription_key_file) is not: set them all, or "
        "none");
  }
  o.timeout = std::chrono::milliseconds(cfg.pagopa_timeout_ms);
  svc->client = std::make_unique<GpdClient>(o);
  projections::PaymentsOptions po;
  po.poll_interval = std::chrono::seconds(cfg.pagopa_poll_seconds);
  po.retry_base = std::chrono::milliseconds(cfg.pagopa_retry_base_ms);
  svc->reactor = std::make_unique<projections::PaymentsReactor>(commands, *svc->client,
                                                                std::move(settings), waiter, po);
  svc->summary = fmt::format("pagoPA payments at {}, receipts read every {} s",
                             cfg.pagopa_positions_url, cfg.pagopa_poll_seconds);
  return svc;
}

}  // namespace procedo::pagopa
