#include "adapters/pagopa/service.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace procedo::pagopa {
namespace {

// The key pagoPA issued, from the setting or its file (trimmed).
Result<std::string> KeyOf(const std::string& key, const std::string& file,
                          const std::string& setting) {
  if (file.empty()) return key;
  std::ifstream in(file);
  if (!in) {
    return Status::InvalidArgument(
        fmt::format("{}.subscription_key_file '{}' cannot be read; give a readable file holding "
                    "the key pagoPA issued to the Ente",
                    setting, file));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string out = ss.str();
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// A tenant's connection: its own fields, each unset one the default's. nullopt: none (no
// positions URL anywhere).
Result<std::optional<GpdOptions>> ConnectionOf(const Config& cfg, const std::string& tenant) {
  Config::PagopaConnection own;
  if (auto it = cfg.pagopa_tenants.find(tenant); it != cfg.pagopa_tenants.end()) own = it->second;
  const std::string setting = own.positions_url.empty() && own.receipts_url.empty() &&
                                      own.subscription_key.empty() &&
                                      own.subscription_key_file.empty()
                                  ? std::string("pagopa")
                                  : "pagopa.tenants." + tenant;
  GpdOptions o;
  o.positions_url = own.positions_url.empty() ? cfg.pagopa_positions_url : own.positions_url;
  o.receipts_url = own.receipts_url.empty() ? cfg.pagopa_receipts_url : own.receipts_url;
  if (o.positions_url.empty()) return std::optional<GpdOptions>();
  auto key = own.subscription_key.empty() && own.subscription_key_file.empty()
                 ? KeyOf(cfg.pagopa_subscription_key, cfg.pagopa_subscription_key_file, "pagopa")
                 : KeyOf(own.subscription_key, own.subscription_key_file, setting);
  if (!key.ok()) return key.status();
  o.subscription_key = *key;
  if (o.receipts_url.empty() || o.subscription_key.empty()) {
    return Status::InvalidArgument(fmt::format(
        "pagoPA for {}: positions_url is set but receipts_url or the subscription key "
        "(subscription_key or subscription_key_file) is not, in [{}] or [pagopa]: set them all, "
        "or none",
        tenant, setting));
  }
  o.timeout = std::chrono::milliseconds(cfg.pagopa_timeout_ms);
  return std::optional<GpdOptions>(std::move(o));
}

}  // namespace

Result<std::unique_ptr<PaymentsService>> StartPaymentsService(
    const Config& cfg, CommandHandler& commands,
    std::shared_ptr<const domain::PaymentSettingsSet> settings, projections::Waiter& waiter,
    const crypto::PersonalData* personal) {
  auto svc = std::make_unique<PaymentsService>();
  if (!cfg.pagopa_enabled) {
    svc->summary = "no pagoPA payments (pagopa.enabled = false)";
    return svc;
  }
  for (const auto& [tenant, own] : cfg.pagopa_tenants) {
    if (settings == nullptr || settings->ForTenant(tenant) == nullptr) {
      return Status::InvalidArgument(fmt::format(
          "pagopa.tenants.{0} is set, but {0} takes no payments: add domain/payments/{0}.json "
          "or remove [pagopa.tenants.{0}]",
          tenant));
    }
  }
  std::vector<std::string> served;
  for (const auto& tenant : settings ? settings->Tenants() : std::vector<std::string>{}) {
    auto connection = ConnectionOf(cfg, tenant);
    if (!connection.ok()) return connection.status();
    if (!connection->has_value()) continue;
    GpdOptions& o = **connection;
    o.personal = personal;
    std::unique_ptr<GpdClient>& client =
        svc->clients[o.positions_url + "\n" + o.receipts_url + "\n" + o.subscription_key];
    if (client == nullptr) client = std::make_unique<GpdClient>(o);
    svc->by_tenant[tenant] = client.get();
    served.push_back(fmt::format("{} at {}", tenant, o.positions_url));
  }
  if (served.empty()) {
    svc->summary = "no pagoPA payments (pagopa.positions_url is empty)";
    return svc;
  }
  projections::PaymentsOptions po;
  po.poll_interval = std::chrono::seconds(cfg.pagopa_poll_seconds);
  po.retry_base = std::chrono::milliseconds(cfg.pagopa_retry_base_ms);
  auto platform_of = [by = &svc->by_tenant](const std::string& tenant) {
    auto it = by->find(tenant);
    return it == by->end() ? static_cast<projections::PaymentPlatform*>(nullptr) : it->second;
  };
  svc->reactor = std::make_unique<projections::PaymentsReactor>(commands, platform_of,
                                                                std::move(settings), waiter, po);
  svc->summary = fmt::format("pagoPA payments for {}; receipts read every {} s",
                             fmt::join(served, ", "), cfg.pagopa_poll_seconds);
  return svc;
}

}  // namespace procedo::pagopa
