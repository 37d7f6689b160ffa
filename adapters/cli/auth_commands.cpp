// `procedo token` (development JWTs) and `procedo apikey create` (integrator keys).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/api_keys.h"
#include "adapters/cli/common.h"
#include "domain/access.h"
#include "adapters/http/auth.h"
#include "adapters/http/dev_keys.h"

namespace procedo::cli {

void RegisterToken(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "token", "Issue a development JWT from the local key under <data_dir>/dev-keys (created if missing)");
  static std::string role, tenant, sub;
  static int64_t ttl_minutes = 480;
  cmd->add_option("--role", role, "operator, validator, operator_validator, region, helpdesk_l1, "
                                  "helpdesk_l2, citizen, integrator or admin")->required();
  cmd->add_option("--tenant", tenant, "the actor's organisation, e.g. comune-forli");
  cmd->add_option("--sub", sub, "the actor's id")->required();
  cmd->add_option("--ttl", ttl_minutes, "validity in minutes (default 480)");
  cmd->callback([&g, exit_code] {
    auto cfg = Load(g);
    if (!cfg.ok()) { *exit_code = Fail(cfg.status()); return; }
    const auto& roles = domain::Roles();
    if (!roles.count(role)) {
      *exit_code = Fail(Status::InvalidArgument(
          fmt::format("unknown role '{}'; use one of {}", role, fmt::join(roles, ", "))));
      return;
    }
    if (tenant.empty() && role != "admin") {  // domain::IsAdmin: every other role has a tenant
      *exit_code = Fail(Status::InvalidArgument("every role but admin needs --tenant"));
      return;
    }
    auto keys = http::EnsureDevKeys(cfg->DevKeyDir());
    if (!keys.ok()) { *exit_code = Fail(keys.status()); return; }
    auto token = http::IssueToken(keys->private_pem_file, sub, role, tenant,
                                  std::chrono::minutes(ttl_minutes), SystemClock::Instance().Now(),
                                  cfg->auth_jwt_issuer);
    if (!token.ok()) { *exit_code = Fail(token.status()); return; }
    fmt::print("{}\n", *token);
  });
}

void RegisterApiKey(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cmd = app.add_subcommand("apikey", "Manage integrator API keys");
  cmd->require_subcommand(1);
  auto* create = cmd->add_subcommand("create", "Create a key; it is printed once and stored hashed");
  static std::string tenant, name;
  create->add_option("--tenant", tenant, "the integrator's organisation")->required();
  create->add_option("--name", name, "what the key is for, e.g. protocollo");
  create->callback([&g, exit_code] {
    auto cfg = Load(g);
    if (!cfg.ok()) { *exit_code = Fail(cfg.status()); return; }
    auto k = CreateApiKey(cfg->ApiKeysFile(), tenant, name);
    if (!k.ok()) { *exit_code = Fail(k.status()); return; }
    fmt::print("{}\n", k->secret);
    fmt::print(stderr, "key {} for {} stored hashed in {}; send it as 'X-API-Key'. A running server "
                       "picks it up on restart.\n", k->id, tenant, cfg->ApiKeysFile());
  });
}

}  // namespace procedo::cli
