#include "adapters/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <variant>
#include <vector>

namespace procedo {
namespace {

struct Key {
  const char* name;  // dotted TOML path
  std::variant<std::string*, bool*, int64_t*> target;
};

std::string EnvName(const std::string& key) {
  std::string n = "PROCEDO_";
  for (char c : key) n.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return n;
}

Status SetFromText(const Key& k, const std::string& text, const std::string& origin) {
  auto bad = [&](const char* want) {
    return Status::InvalidArgument(
        fmt::format("{}: '{}' is not {}; set {} to {}", origin, text, want, k.name, want));
  };
  if (auto* s = std::get_if<std::string*>(&k.target)) {
    **s = text;
  } else if (auto* b = std::get_if<bool*>(&k.target)) {
    if (text == "true" || text == "1")
      **b = true;
    else if (text == "false" || text == "0")
      **b = false;
    else
      return bad("a boolean (true or false)");
  } else if (auto* i = std::get_if<int64_t*>(&k.target)) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return bad("an integer");
    **i = v;
  }
  return Status::Ok();
}

Status SetFromToml(const Key& k, const toml::node& n, const std::string& origin) {
  auto bad = [&](const char* want) {
    return Status::InvalidArgument(fmt::format("{}: {} must be {}", origin, k.name, want));
  };
  if (auto* s = std::get_if<std::string*>(&k.target)) {
    if (!n.is_string()) return bad("a string");
    **s = *n.value<std::string>();
  } else if (auto* b = std::get_if<bool*>(&k.target)) {
    if (!n.is_boolean()) return bad("a boolean");
    **b = *n.value<bool>();
  } else if (auto* i = std::get_if<int64_t*>(&k.target)) {
    if (!n.is_integer()) return bad("an integer");
    **i = *n.value<int64_t>();
  }
  return Status::Ok();
}

void CollectLeaves(const toml::table& t, const std::string& prefix, std::vector<std::string>* out) {
  for (auto&& [k, v] : t) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto* sub = v.as_table())
      CollectLeaves(*sub, name, out);
    else
      out->push_back(name);
  }
}

constexpr std::string_view kPagopaTenants = "pagopa.tenants.";

// pagopa.tenants.<tenant>.<field>: one field of one Ente's own pagoPA connection.
Status SetPagopaTenant(Config& c, const std::string& leaf, const toml::node& n,
                       const std::string& origin) {
  const std::string rest = leaf.substr(kPagopaTenants.size());
  const size_t dot = rest.rfind('.');
  const std::string tenant = dot == std::string::npos ? "" : rest.substr(0, dot);
  const std::string field = dot == std::string::npos ? rest : rest.substr(dot + 1);
  Config::PagopaConnection& to = c.pagopa_tenants[tenant];
  std::string* target = field == "positions_url"           ? &to.positions_url
                        : field == "receipts_url"          ? &to.receipts_url
                        : field == "subscription_key"      ? &to.subscription_key
                        : field == "subscription_key_file" ? &to.subscription_key_file
                                                           : nullptr;
  if (tenant.empty() || tenant.find('.') != std::string::npos || target == nullptr) {
    return Status::InvalidArgument(fmt::format(
        "{}: unknown key '{}'; an Ente's own pagoPA connection is [pagopa.tenants.<tenant>] "
        "with positions_url, receipts_url, subscription_key or subscription_key_file",
        origin, leaf));
  }
  if (!n.is_string()) {
    return Status::InvalidArgument(fmt::format("{}: {} must be a string", origin, leaf));
  }
  *target = *n.value<std::string>();
  return Status::Ok();
}

}  // namespace

Result<Config> LoadConfig(const std::string& path, const EnvLookup& env) {
  Config c;
  const std::vector<Key> keys = {
      {"data_dir", &c.data_dir},
      {"domain_dir", &c.domain_dir},
      {"schemas_dir", &c.schemas_dir},
      {"log.sync", &c.log_sync},
      {"log.max_event_bytes", &c.log_max_event_bytes},
      {"http.listen", &c.http_listen},
      {"http.body_limit", &c.http_body_limit},
      {"http.worker_threads", &c.http_worker_threads},
      {"http.read_timeout", &c.http_read_timeout},
      {"http.idle_timeout", &c.http_idle_timeout},
      {"http.access_log", &c.http_access_log},
      {"http.tls_certificate", &c.http_tls_certificate},
      {"http.tls_private_key", &c.http_tls_private_key},
      {"http.trusted_proxies", &c.http_trusted_proxies},
      {"auth.jwt_public_keys", &c.auth_jwt_public_keys},
      {"auth.jwt_issuer", &c.auth_jwt_issuer},
      {"auth.api_keys_file", &c.auth_api_keys_file},
      {"auth.max_failures", &c.auth_max_failures},
      {"auth.max_failures_per_credential", &c.auth_max_failures_per_credential},
      {"auth.failure_window_seconds", &c.auth_failure_window_seconds},
      {"kafka.enabled", &c.kafka_enabled},
      {"kafka.bootstrap", &c.kafka_bootstrap},
      {"kafka.topic_prefix", &c.kafka_topic_prefix},
      {"kafka.partitions", &c.kafka_partitions},
      {"kafka.replication", &c.kafka_replication},
      {"kafka.source", &c.kafka_source},
      {"kafka.dataschema_base", &c.kafka_dataschema_base},
      {"kafka.queue_max_messages", &c.kafka_queue_max_messages},
      {"kafka.commands_enabled", &c.kafka_commands_enabled},
      {"kafka.commands_group_id", &c.kafka_commands_group_id},
      {"kafka.commands_instance_id", &c.kafka_commands_instance_id},
      {"notify.enabled", &c.notify_enabled},
      {"notify.base_url", &c.notify_base_url},
      {"notify.secret_file", &c.notify_secret_file},
      {"notify.smtp_host", &c.notify_smtp_host},
      {"notify.smtp_port", &c.notify_smtp_port},
      {"notify.smtp_starttls", &c.notify_smtp_starttls},
      {"notify.smtp_username", &c.notify_smtp_username},
      {"notify.smtp_password", &c.notify_smtp_password},
      {"notify.from", &c.notify_from},
      {"notify.sms_url", &c.notify_sms_url},
      {"notify.sms_secret", &c.notify_sms_secret},
      {"notify.sms_sender", &c.notify_sms_sender},
      {"notify.sla_email", &c.notify_sla_email},
      {"notify.history", &c.notify_history},
      {"notify.max_attempts", &c.notify_max_attempts},
      {"notify.retry_base_ms", &c.notify_retry_base_ms},
      {"notify.retry_max_ms", &c.notify_retry_max_ms},
      {"notify.timeout_ms", &c.notify_timeout_ms},
      {"invoicing.enabled", &c.invoicing_enabled},
      {"personal.master_key_file", &c.personal_master_key_file},
      {"pagopa.enabled", &c.pagopa_enabled},
      {"pagopa.positions_url", &c.pagopa_positions_url},
      {"pagopa.receipts_url", &c.pagopa_receipts_url},
      {"pagopa.subscription_key", &c.pagopa_subscription_key},
      {"pagopa.subscription_key_file", &c.pagopa_subscription_key_file},
      {"pagopa.poll_seconds", &c.pagopa_poll_seconds},
      {"pagopa.timeout_ms", &c.pagopa_timeout_ms},
      {"pagopa.retry_base_ms", &c.pagopa_retry_base_ms},
      {"mail.enabled", &c.mail_enabled},
      {"mail.tenant", &c.mail_tenant},
      {"mail.address", &c.mail_address},
      {"mail.imap_url", &c.mail_imap_url},
      {"mail.folder", &c.mail_folder},
      {"mail.username", &c.mail_username},
      {"mail.password", &c.mail_password},
      {"mail.starttls", &c.mail_starttls},
      {"mail.idle", &c.mail_idle},
      {"mail.poll_seconds", &c.mail_poll_seconds},
      {"mail.reopen_window_hours", &c.mail_reopen_window_hours},
      {"mail.max_message_bytes", &c.mail_max_message_bytes},
      {"mail.timeout_ms", &c.mail_timeout_ms},
      {"citizen.max_failures", &c.citizen_max_failures},
      {"citizen.lockout_seconds", &c.citizen_lockout_seconds},
      {"citizen.session_seconds", &c.citizen_session_seconds},
      {"web.enabled", &c.web_enabled},
      {"web.dir", &c.web_dir},
      {"oidc.issuer", &c.oidc_issuer},
      {"oidc.client_id", &c.oidc_client_id},
      {"oidc.client_secret", &c.oidc_client_secret},
      {"oidc.redirect_uri", &c.oidc_redirect_uri},
      {"oidc.post_logout_redirect_uri", &c.oidc_post_logout_redirect_uri},
      {"oidc.scopes", &c.oidc_scopes},
      {"oidc.role_claim", &c.oidc_role_claim},
      {"oidc.tenant_claim", &c.oidc_tenant_claim},
      {"oidc.session_seconds", &c.oidc_session_seconds},
      {"portal.oidc_issuer", &c.portal_oidc_issuer},
      {"portal.oidc_client_id", &c.portal_oidc_client_id},
      {"portal.oidc_client_secret", &c.portal_oidc_client_secret},
      {"portal.oidc_redirect_uri", &c.portal_oidc_redirect_uri},
      {"portal.oidc_post_logout_redirect_uri", &c.portal_oidc_post_logout_redirect_uri},
      {"portal.oidc_scopes", &c.portal_oidc_scopes},
      {"portal.session_seconds", &c.portal_session_seconds},
      {"testing.driven_clock", &c.testing_driven_clock},
      {"testing.clock_start", &c.testing_clock_start},
      {"testing.fault_points", &c.testing_fault_points},
  };
  if (!path.empty()) {
    if (!std::filesystem::exists(path)) {
      return Status::NotFound(
          fmt::format("configuration file '{}' does not exist; pass an "
                      "existing file or none for the defaults",
                      path));
    }
    toml::table t;
    try {
      t = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument(fmt::format("{}:{}:{}: {}", path, e.source().begin.line,
                                                 e.source().begin.column, e.description()));
    }
    std::vector<std::string> leaves;
    CollectLeaves(t, "", &leaves);
    for (const auto& leaf : leaves) {
      if (leaf.starts_with(kPagopaTenants)) {
        if (Status s = SetPagopaTenant(c, leaf, *t.at_path(leaf).node(), path); !s.ok()) return s;
        continue;
      }
      auto k = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return leaf == k.name; });
      if (k == keys.end()) {
        return Status::InvalidArgument(fmt::format(
            "{}: unknown key '{}'; see procedo.toml in the repository for the known keys", path,
            leaf));
      }
      if (Status s = SetFromToml(*k, *t.at_path(leaf).node(), path); !s.ok()) return s;
    }
  }
  for (const auto& k : keys) {
    std::string name = EnvName(k.name);
    if (const char* v = env(name.c_str())) {
      if (Status s = SetFromText(k, v, "environment variable " + name); !s.ok()) return s;
    }
  }
  if (c.log_max_event_bytes < 1024 || c.log_max_event_bytes > (64 << 20)) {
    return Status::InvalidArgument(fmt::format(
        "log.max_event_bytes is {}; choose between 1024 and 67108864", c.log_max_event_bytes));
  }
  if (c.notify_max_attempts < 1 || c.notify_retry_base_ms < 1 ||
      c.notify_retry_max_ms < c.notify_retry_base_ms || c.citizen_max_failures < 1 ||
      c.citizen_lockout_seconds < 1 || c.citizen_session_seconds < 60) {
    return Status::InvalidArgument(
        "notify.max_attempts, notify.retry_base_ms, citizen.max_failures and "
        "citizen.lockout_seconds must be at least 1, notify.retry_max_ms at least "
        "notify.retry_base_ms, citizen.session_seconds at least 60");
  }
  if (c.mail_poll_seconds < 1 || c.mail_reopen_window_hours < 0 ||
      c.mail_max_message_bytes < 1024 || c.mail_timeout_ms < 1) {
    return Status::InvalidArgument(
        "mail.poll_seconds must be at least 1, mail.reopen_window_hours at least 0, "
        "mail.max_message_bytes at least 1024 and mail.timeout_ms at least 1");
  }
  if (c.data_dir.empty()) return Status::InvalidArgument("data_dir is empty; name a directory");
  if (!c.oidc_issuer.empty() && (c.oidc_client_id.empty() || c.oidc_session_seconds < 60 ||
                                 c.oidc_role_claim.empty() || c.oidc_tenant_claim.empty())) {
    return Status::InvalidArgument(
        "oidc.issuer is set, so oidc.client_id, oidc.role_claim and oidc.tenant_claim must be "
        "set too and oidc.session_seconds be at least 60 (the client is registered with the "
        "identity provider)");
  }
  if (!c.portal_oidc_issuer.empty() &&
      (c.portal_oidc_client_id.empty() || c.portal_session_seconds < 60)) {
    return Status::InvalidArgument(
        "portal.oidc_issuer is set, so portal.oidc_client_id must be set too (the portal's "
        "client at the identity provider) and portal.session_seconds be at least 60");
  }
  if (c.kafka_partitions < 1 || c.kafka_partitions > 10'000 || c.kafka_replication < 1 ||
      c.kafka_replication > 32'767 || c.kafka_queue_max_messages < 1 ||
      c.kafka_queue_max_messages > 10'000'000) {
    return Status::InvalidArgument(fmt::format(
        "kafka.partitions ({}), kafka.replication ({}) or kafka.queue_max_messages ({}) is out of "
        "range; choose 1..10000, 1..32767 and 1..10000000",
        c.kafka_partitions, c.kafka_replication, c.kafka_queue_max_messages));
  }
  return c;
}

}  // namespace procedo
