// One TOML file (procedo.toml); every key overridable by a PROCEDO_ environment variable named
// after its section and key (log.sync -> PROCEDO_LOG_SYNC, data_dir -> PROCEDO_DATA_DIR).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "engine/base/status.h"

namespace procedo {

struct Config {
  std::string data_dir = "data";
  std::string domain_dir = "domain";    // calendars, workflows and catalogue data files
  std::string schemas_dir = "schemas";  // event schemas, workflow schema, OpenAPI document
  bool log_sync = true;
  int64_t log_max_event_bytes = 1 << 20;
  std::string http_listen = "127.0.0.1:8080";
  int64_t http_body_limit = 2 << 20;
  int64_t http_worker_threads = 64;
  int64_t http_read_timeout = 10;    // seconds for a request's headers and body to arrive
  int64_t http_idle_timeout = 60;    // seconds a kept-alive connection may sit idle
  bool http_access_log = false;      // a line per connection step on standard output
  std::string http_tls_certificate;  // TLS is on when both are set
  std::string http_tls_private_key;
  // Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed.
  std::string http_trusted_proxies;
  // Comma-separated PEM files; empty: the development key `procedo token` creates, if present.
  std::string auth_jwt_public_keys;
  std::string auth_jwt_issuer;
  std::string auth_api_keys_file;  // empty: <data_dir>/api-keys.json
  // Failing authentications after which further failing ones get 429 for the window: per client
  // address and per credential. Valid credentials are always accepted.
  int64_t auth_max_failures = 10;
  int64_t auth_max_failures_per_credential = 3;
  int64_t auth_failure_window_seconds = 60;
  // Kafka relay (adapters/kafka): every event to <topic_prefix>.<kind>, CloudEvents binary mode.
  bool kafka_enabled = false;
  std::string kafka_bootstrap = "127.0.0.1:19092";
  std::string kafka_topic_prefix = "procedo";
  int64_t kafka_partitions = 3;
  int64_t kafka_replication = 1;
  std::string kafka_source = "urn:procedo:local";
  std::string kafka_dataschema_base = "urn:procedo:schemas:events:";
  int64_t kafka_queue_max_messages = 100'000;
  // Kafka command consumer (adapters/kafka/command_consumer.h): commands from
  // <topic_prefix>.commands, results to <topic_prefix>.command-results. Independent of
  // kafka_enabled, which turns on the relay.
  bool kafka_commands_enabled = false;
  std::string kafka_commands_group_id;                 // empty: <topic_prefix>-commands
  std::string kafka_commands_instance_id = "procedo";  // static membership; empty: dynamic

  // Notifier (adapters/notify, projections/notifier): e-mail over SMTP, SMS over an HTTP gateway.
  // On by default, but the notifier runs only with a channel (smtp_host or sms_url); `serve`
  // prints which channels are on and why.
  bool notify_enabled = true;
  std::string notify_base_url = "http://127.0.0.1:8080";  // links in messages: <base>/pratica?...
  std::string notify_secret_file;  // empty: <data_dir>/notify-secret (passwords, sessions, survey)
  std::string notify_smtp_host;    // empty: no e-mail channel
  int64_t notify_smtp_port = 25;
  bool notify_smtp_starttls = false;
  std::string notify_smtp_username;
  std::string notify_smtp_password;
  std::string notify_from = "La tua pratica on line <noreply@procedo.local>";
  std::string notify_sms_url;  // empty: no SMS channel
  std::string notify_sms_secret;
  std::string notify_sms_sender = "Procedo";
  std::string notify_sla_email;  // SLA breaches of streams with no office address
  // Whether events from before the notifier first ran on the log get messages (NOTIFY.md).
  bool notify_history = false;
  int64_t notify_max_attempts = 6;
  int64_t notify_retry_base_ms = 2000;
  int64_t notify_retry_max_ms = 1800000;
  int64_t notify_timeout_ms = 10000;
  // The help desk's mailbox (projections/reactors/mailbox.h, adapters/mail): read over IMAP when
  // mail.tenant is set, each new message filed as a ticket of that tenant.
  bool mail_enabled = true;
  std::string mail_tenant;   // empty: no mailbox is read
  std::string mail_address;  // the mailbox's address: Reply-To of the tenant's ticket mail
  std::string mail_imap_url = "imap://127.0.0.1:143";
  std::string mail_folder = "INBOX";
  std::string mail_username;
  std::string mail_password;
  bool mail_starttls = false;
  int64_t mail_poll_seconds = 60;
  bool mail_idle = true;  // IMAP IDLE wakes the reactor as mail arrives; the poll is the backstop
  int64_t mail_reopen_window_hours = 168;
  int64_t mail_max_message_bytes = 10 << 20;
  int64_t mail_timeout_ms = 30000;
  // Payments through pagoPA (projections/reactors/payments.h, adapters/pagopa): on when
  // pagopa.positions_url is set. The subscription key is never logged; prefer the file.
  bool pagopa_enabled = true;
  std::string pagopa_positions_url;  // .../gpd/debt-positions-service/v1; empty: no payments
  std::string pagopa_receipts_url;   // .../gpd/payments-receipts-service/v1
  std::string pagopa_subscription_key;
  std::string pagopa_subscription_key_file;  // read at start, its content trimmed
  int64_t pagopa_poll_seconds = 60;
  int64_t pagopa_timeout_ms = 10000;
  int64_t pagopa_retry_base_ms = 1000;
  // An Ente whose station is not the default one's (pagopa.tenants.<tenant>.*): its own base
  // URLs and key; a field left unset is the [pagopa] one. Only in the file, not from the
  // environment (a tenant's id is no variable name): give its key as subscription_key_file.
  struct PagopaConnection {
    std::string positions_url, receipts_url, subscription_key, subscription_key_file;
  };
  std::map<std::string, PagopaConnection> pagopa_tenants;
  // Invoices of periodic positions sent at each billing period's end
  // (projections/reactors/invoicing.h).
  bool invoicing_enabled = true;
  // Personal data sealed per data subject (engine/crypto): on when master_key_file is set, a
  // file of 64 hexadecimal digits readable by the server only (`openssl rand -hex 32`). The
  // subjects' keys live beside the events in the log (its side table), wrapped by it.
  std::string personal_master_key_file;
  // The citizen's login (seed 002).
  int64_t citizen_max_failures = 5;
  int64_t citizen_lockout_seconds = 60;
  int64_t citizen_session_seconds = 1800;
  // The citizens' pages (adapters/web): templates, styles and fonts are read from web_dir at start.
  bool web_enabled = true;
  std::string web_dir = "adapters/web";
  // The staff console's sign-in (adapters/web/oidc.h): the organisation's OpenID provider. Empty
  // issuer: the console says it is not configured. redirect_uri empty:
  // <notify.base_url>/console/accesso/ritorno.
  std::string oidc_issuer;
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string oidc_redirect_uri;
  std::string oidc_post_logout_redirect_uri;
  std::string oidc_scopes = "openid profile";
  std::string oidc_role_claim = "role";
  std::string oidc_tenant_claim = "tenant";
  int64_t oidc_session_seconds = 8 * 3600;
  // The citizens' portal of on-demand services (/servizi): people sign in with the national
  // identity (SPID, CIE) through an OpenID provider, as citizens of the Ente whose page they
  // came from. Empty issuer: the portal says sign-in is not available. redirect_uri empty:
  // <notify.base_url>/servizi/accesso/ritorno.
  std::string portal_oidc_issuer;
  std::string portal_oidc_client_id;
  std::string portal_oidc_client_secret;
  std::string portal_oidc_redirect_uri;
  std::string portal_oidc_post_logout_redirect_uri;
  std::string portal_oidc_scopes = "openid profile";
  int64_t portal_session_seconds = 1800;
  // Only for tests: the server's one clock stands at testing.clock_start (RFC 3339; empty: the
  // real time at start) and moves only when an admin POSTs /v1/testing/clock.
  bool testing_driven_clock = false;
  std::string testing_clock_start;
  // Only for tests, and only in builds with fault points (PROCEDO_FAULT_POINTS): comma-separated
  // faults to inject, e.g. "notify.crash_after_send". Other builds refuse to start with it set.
  std::string testing_fault_points;

  std::string LogPath() const { return data_dir + "/log"; }
  std::string ViewsPath() const { return data_dir + "/views"; }
  // The knowledge base's Xapian index (a view with its own storage and checkpoint).
  std::string KbPath() const { return data_dir + "/kb"; }
  std::string DevKeyDir() const { return data_dir + "/dev-keys"; }
  std::string ApiKeysFile() const {
    return auth_api_keys_file.empty() ? data_dir + "/api-keys.json" : auth_api_keys_file;
  }
  std::string NotifySecretFile() const {
    return notify_secret_file.empty() ? data_dir + "/notify-secret" : notify_secret_file;
  }
  std::string KafkaRelayPath() const { return data_dir + "/kafka-relay"; }
  // The notifier's state and checkpoint; deleting it costs a fold of the whole log, nothing else.
  std::string NotifierPath() const { return data_dir + "/notifier"; }
  std::string OidcRedirectUri() const {
    return oidc_redirect_uri.empty() ? notify_base_url + "/console/accesso/ritorno"
                                     : oidc_redirect_uri;
  }
  std::string OidcPostLogoutRedirectUri() const {
    return oidc_post_logout_redirect_uri.empty() ? notify_base_url + "/console/accesso/uscito"
                                                 : oidc_post_logout_redirect_uri;
  }
  std::string PortalRedirectUri() const {
    return portal_oidc_redirect_uri.empty() ? notify_base_url + "/servizi/accesso/ritorno"
                                            : portal_oidc_redirect_uri;
  }
  std::string PortalPostLogoutRedirectUri() const {
    return portal_oidc_post_logout_redirect_uri.empty()
               ? notify_base_url + "/servizi/accesso/uscito"
               : portal_oidc_post_logout_redirect_uri;
  }
  // The mailbox's checkpoint and the originals and attachments of what it filed.
  std::string MailPath() const { return data_dir + "/mail"; }
};

using EnvLookup = std::function<const char*(const char*)>;

// `path` may be empty (defaults and environment only). A missing file that was asked for, an
// unknown key, or a value of the wrong type is an error that names the key.
Result<Config> LoadConfig(const std::string& path, const EnvLookup& env);

}  // namespace procedo
