// `procedo serve`: the log, the projections, the HTTP API and (when enabled) the Kafka relay and
// the Kafka command consumer.
#include <fmt/format.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/common.h"
#include "adapters/cli/serve_setup.h"
#include "adapters/command_service.h"
#include "adapters/exchange/exchange.h"
#include "adapters/http/api.h"
#include "adapters/http/dev_keys.h"
#include "adapters/http/server.h"
#include "adapters/kafka/consumers.h"
#include "adapters/mail/service.h"
#include "adapters/notify/service.h"
#include "adapters/pagopa/service.h"
#include "adapters/web/oidc.h"
#include "adapters/web/web.h"
#include "domain/calendars.h"
#include "domain/procedures.h"
#include "engine/calendar/calendar.h"
#include "engine/views/consumer.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/json_schema.h"
#include "projections/reactors/invoicing.h"
#include "projections/reactors/retention.h"
#include "projections/reactors/sla_timer.h"
#include "projections/reactors/waiting_list.h"
#include "projections/views/knowledge_base.h"
#include "projections/views/projections.h"

namespace procedo::cli {
namespace {

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument(fmt::format("http.listen '{}' must be ADDRESS:PORT", listen));
  }
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535)
    return Status::InvalidArgument(fmt::format("bad port in '{}'", listen));
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(port));
}

std::string ReadFileOr(const std::string& path, const std::string& fallback) {
  std::ifstream in(path);
  if (!in) return fallback;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Serve(const Config& cfg) {
  ReportFatalSignals();
  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGHUP);  // reloads the keys
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // testing.driven_clock (tests only): one clock for the log, the commands, the SLA timer, the
  // notifier and the citizen's logins, moved by POST /v1/testing/clock instead of by time.
  std::unique_ptr<ManualClock> driven_clock;
  std::unique_ptr<procedo::projections::ManualWaiter> driven_waiter;
  if (cfg.testing_driven_clock) {
    TimePoint start = SystemClock::Instance().Now();
    if (!cfg.testing_clock_start.empty()) {
      auto t = ParseRfc3339(cfg.testing_clock_start);
      if (!t.ok()) {
        return Fail(Status::InvalidArgument(
            fmt::format("testing.clock_start: {} (or leave it empty for the time at start)",
                        t.status().message())));
      }
      start = *t;
    }
    driven_clock = std::make_unique<ManualClock>(start);
    driven_waiter = std::make_unique<procedo::projections::ManualWaiter>(*driven_clock);
    fmt::print(
        "procedo: WARNING: testing.driven_clock is on: time stands at {} and moves only by "
        "POST /v1/testing/clock; never run production like this\n",
        FormatTime(start));
  }
  const Clock& clock =
      driven_clock ? static_cast<const Clock&>(*driven_clock) : SystemClock::Instance();

  auto log = OpenLog(cfg, &clock);
  if (!log.ok()) return Fail(log.status());
  if (driven_clock && (*log)->LastPosition() > 0) {
    // The driven clock never goes back: a restart (without clock_start, at the wall time; with
    // it, at that instant) resumes at the latest time the log has recorded, if that is later.
    auto last = (*log)->ReadAll((*log)->LastPosition(), 1);
    if (last.ok() && !last->empty() && last->front().time > driven_clock->Now()) {
      driven_clock->Set(last->front().time);
      fmt::print("procedo: the driven clock resumes at {}, the log's latest time\n",
                 FormatTime(driven_clock->Now()));
    }
  }
  // Fault points (testing.fault_points) exist only in builds made for the tests.
  if (Status s = CheckFaultPoints(cfg); !s.ok()) return Fail(s);
  fmt::print("procedo: event log at {} (last position {}, sync={})\n",
             std::filesystem::absolute(cfg.LogPath()).string(), (*log)->LastPosition(),
             cfg.log_sync);

  // The server must not start on an invalid definition: LoadDomain lists every problem.
  auto domain = domain::LoadDomain(cfg.domain_dir, cfg.schemas_dir);
  if (!domain.ok()) return Fail(domain.status());
  auto snapshots = OpenRocksDbSnapshotStore(cfg.data_dir + "/snapshots");
  if (!snapshots.ok()) return Fail(snapshots.status());
  auto personal = OpenPersonalKeys(cfg, **log);
  if (!personal.ok()) return Fail(personal.status());
  if (personal->keys) {
    (*domain)->subject_owners->Set(
        [k = personal->keys.get()](const std::string& s) { return k->TenantOf(s); });
  }
  CommandHandlerOptions command_options;
  command_options.clock = &clock;
  command_options.personal = personal->data.get();
  CommandHandler commands(**log, (*domain)->workflows, (*domain)->events, snapshots->get(),
                          command_options);
  fmt::print("procedo: {} workflows, {} procedures, {} event schemas from {}\n",
             (*domain)->workflows.all().size(), (*domain)->catalogue->entries().size(),
             (*domain)->events.size(), cfg.domain_dir);

  const domain::CalendarCatalog& calendars = *(*domain)->calendars;
  procedo::projections::ProjectionSet read_models((*domain)->workflows, calendars);
  std::vector<std::string> view_names = read_models.Names();
  view_names.push_back(procedo::projections::kSlaView);
  view_names.push_back(procedo::projections::kWaitingListView);
  view_names.push_back(procedo::projections::kRetentionView);
  auto views = ViewStore::Open(cfg.ViewsPath(), view_names);
  if (!views.ok()) return Fail(views.status());
  std::vector<Projection*> projections = read_models.All();
  // The SLA timer's projection rides the same runner; its reactor sends the breach commands.
  procedo::projections::SystemWaiter sla_waiter;
  procedo::projections::Waiter* waiter = &sla_waiter;
  if (driven_waiter) waiter = driven_waiter.get();
  procedo::projections::SlaTimer sla_timer(commands, **views, calendars, *waiter);
  projections.push_back(&sla_timer.projection());
  ProjectionRunner runner(**log, **views, projections);
  sla_timer.Bind(runner);
  // Seed 003: a withdrawal's freed place goes to the first waiting application by itself, for
  // the services whose catalogue entry says so; it reads the rankings the runner folds.
  procedo::projections::WaitingListReactor waiting_list(commands, **views, runner,
                                                        (*domain)->services);

  // Everything that follows the log, started in this order and stopped in reverse on every way
  // out of this function: the reactor waits on the runner, so it stops first.
  ConsumerSupervisor consumers(**log, clock);
  // The relay reads the log alone: it starts first, so that the integrators' topics do not wait
  // for the views to catch up with a long log at start.
  std::unique_ptr<kafka::RelayConsumer> relay;
  if (cfg.kafka_enabled) {
    relay = std::make_unique<kafka::RelayConsumer>(log->get(), kafka::RelayOptionsFromConfig(cfg));
    consumers.Add(relay.get());
  }
  consumers.Add(&runner);
  consumers.Add(&sla_timer);
  // Periodic positions' invoices at each period's end, from the accounts view the runner folds.
  std::unique_ptr<procedo::projections::Invoicing> invoicing;
  if (cfg.invoicing_enabled) {
    invoicing = std::make_unique<procedo::projections::Invoicing>(commands, **views, calendars,
                                                                  *(*domain)->services, *waiter);
    invoicing->Bind(runner);
    consumers.Add(invoicing.get());
  }
  consumers.Add(&waiting_list);
  // Erasures carried out (keys destroyed, off the disk) and ordered when retention ends.
  auto personal_reactors =
      ServePersonalData(cfg, *personal, **views, commands, (*domain)->catalogue, *waiter);
  for (auto& r : personal_reactors.all) consumers.Add(r.get());
  auto kb = procedo::projections::KnowledgeBase::Open(**log, cfg.KbPath());
  if (!kb.ok()) return Fail(kb.status());
  consumers.Add(kb->get());

  http::AuthOptions ao;
  ao.jwt_public_key_files = SplitList(cfg.auth_jwt_public_keys);
  ao.api_keys_file = cfg.ApiKeysFile();
  ao.issuer = cfg.auth_jwt_issuer;
  ao.clock = &clock;  // the one clock: staff tokens expire on the driven clock in tests too
  ao.trusted_proxies = SplitList(cfg.http_trusted_proxies);
  ao.max_failures = static_cast<int>(cfg.auth_max_failures);
  ao.max_failures_per_credential = static_cast<int>(cfg.auth_max_failures_per_credential);
  ao.failure_window = std::chrono::seconds(cfg.auth_failure_window_seconds);
  // No key configured: the development key `procedo token` creates, now or later.
  const bool dev_key = ao.jwt_public_key_files.empty();
  if (dev_key) ao.optional_key_files.push_back(cfg.DevKeyDir() + "/public.pem");
  auto auth = http::Authenticator::Create(ao);
  if (!auth.ok()) return Fail(auth.status());

  http::Metrics metrics;
  http::Api api(**log, **auth, metrics, clock);
  api.views = views->get();
  api.personal = personal->data.get();
  api.erasure = personal_reactors.erasure;
  api.runner = &runner;
  api.kb = kb->get();
  api.commands = &commands;
  std::set<std::string> tenants;
  for (const auto& t : calendars.Tenants()) tenants.insert(t.id);
  const CommandService command_service(&commands, std::move(tenants));
  api.command_service = &command_service;
  api.workflows = &(*domain)->workflows;
  api.calendars = &calendars;
  api.services = (*domain)->services.get();
  api.payments = (*domain)->payments.get();
  auto exchange_schema = exchange::ExchangeSchema::Load(cfg.schemas_dir + "/exchange.xsd");
  if (!exchange_schema.ok()) return Fail(exchange_schema.status());
  api.exchange_schema = exchange_schema->get();
  api.consumers = &consumers;
  api.clock_mode = driven_clock ? "driven" : "system";
  api.tls = !cfg.http_tls_certificate.empty();
  api.openapi_json = ReadFileOr(cfg.schemas_dir + "/openapi.json", "{}");
  auto event_schemas = JsonFilesIn(cfg.schemas_dir + "/events", "event schemas");
  if (!event_schemas.ok()) return Fail(event_schemas.status());
  for (const auto& file : *event_schemas) {
    std::string text = ReadFileOr(file, "");
    if (text.empty()) {
      return Fail(Status::IoError(fmt::format(
          "{}: the event schema cannot be read; make it readable by the server", file)));
    }
    api.event_schemas[std::filesystem::path(file).stem().string()] = std::move(text);
  }
  metrics.AddGauge("procedo_log_position", "Last position of the event log.",
                   [&] { return static_cast<double>((*log)->LastPosition()); });
  http::AddConsumerMetrics(metrics, consumers);

  // Commands from <prefix>.commands, answered as over HTTP (same handler, same API keys).
  std::unique_ptr<kafka::CommandsConsumer> command_consumer;
  if (cfg.kafka_commands_enabled) {
    command_consumer = std::make_unique<kafka::CommandsConsumer>(
        &command_service, (*auth)->api_keys(), kafka::CommandConsumerOptionsFromConfig(cfg));
    consumers.Add(command_consumer.get());
  }

  // Seed 002: the citizen's routes and (notify.enabled) the notifier.
  auto notify_service =
      notify::StartNotifyService(cfg, commands, **domain, clock, personal->data.get());
  if (!notify_service.ok()) return Fail(notify_service.status());
  api.citizen = (*notify_service)->citizen.get();
  if ((*notify_service)->notifier) consumers.Add((*notify_service)->notifier.get());
  // The help desk's mailbox in (mail.tenant): after the notifier, whose records it reads.
  auto mail_service = mail::StartMailService(cfg, commands, *waiter);
  if (!mail_service.ok()) return Fail(mail_service.status());
  if ((*mail_service)->reactor) consumers.Add((*mail_service)->reactor.get());
  auto payments = pagopa::StartPaymentsService(cfg, commands, (*domain)->payments, *waiter,
                                               personal->data.get());
  if (!payments.ok()) return Fail(payments.status());
  if ((*payments)->reactor) consumers.Add((*payments)->reactor.get());

  // Stops every consumer before what they use (the handler, the log, the views) goes away.
  struct StopConsumers {
    ConsumerSupervisor& consumers;
    ~StopConsumers() { consumers.StopAll(); }
  } stop_consumers{consumers};
  if (Status s = consumers.StartAll(); !s.ok()) return Fail(s);
  fmt::print("procedo: {}\n", (*notify_service)->Summary());
  fmt::print("procedo: {}\n", (*mail_service)->summary);
  fmt::print("procedo: {}\n", (*payments)->summary);
  fmt::print("procedo: {}\n", invoicing ? "invoicing of periodic positions at each period's end"
                                        : "invoicing off (invoicing.enabled = false)");
  if (relay) {
    fmt::print("procedo: kafka relay to {} (topics {}.<kind>), confirmed up to position {}\n",
               cfg.kafka_bootstrap, cfg.kafka_topic_prefix, relay->Progress().position);
  }
  if (command_consumer) {
    const auto& o = command_consumer->options();
    fmt::print(
        "procedo: kafka commands from {}.commands (group {}), results to "
        "{}.command-results\n",
        o.topic_prefix, o.group_id, o.topic_prefix);
  }

  http::Router router;
  http::AddAllRoutes(router, api);
  // The citizens' pages and the staff console (adapters/web): HTML over the same services as
  // the JSON routes.
  std::unique_ptr<web::Site> site;
  std::unique_ptr<web::OidcClient> oidc, portal_oidc;
  if (cfg.web_enabled) {
    auto loaded = web::Site::Load(cfg.web_dir);
    if (!loaded.ok()) return Fail(loaded.status());
    site = std::move(*loaded);
    web::AddAssetRoutes(router, *site);
    web::AddCitizenPages(router, api, *site, {.secure_cookies = api.tls});
    web::AddTicketPages(router, api, *site);
    fmt::print("procedo: web pages at /pratica and /ticket{}\n",
               site->styled() ? ""
                              : " (unstyled: Bootstrap Italia is missing under web.dir's "
                                "node_modules; scripts/setup installs it)");
    // The staff console: its sign-in is the organisation's identity provider, when configured.
    if (!cfg.oidc_issuer.empty()) {
      web::OidcOptions o;
      o.issuer = cfg.oidc_issuer;
      o.client_id = cfg.oidc_client_id;
      o.client_secret = cfg.oidc_client_secret;
      o.redirect_uri = cfg.OidcRedirectUri();
      o.post_logout_redirect_uri = cfg.OidcPostLogoutRedirectUri();
      o.scopes = cfg.oidc_scopes;
      o.role_claim = cfg.oidc_role_claim;
      o.tenant_claim = cfg.oidc_tenant_claim;
      o.session_ttl = std::chrono::seconds(cfg.oidc_session_seconds);
      o.clock = &clock;
      oidc = std::make_unique<web::OidcClient>(std::move(o));
    }
    web::AddConsolePages(router, api, *site, oidc.get(),
                         {.secure_cookies = !cfg.http_tls_certificate.empty()});
    fmt::print("procedo: staff console at /console{}\n",
               oidc ? fmt::format(", sign-in with {}", cfg.oidc_issuer)
                    : " (no sign-in: set oidc.issuer, oidc.client_id and oidc.client_secret)");
  }
  if (cfg.web_enabled) {
    // The citizens' portal: the national identity's provider, with every person a citizen of
    // the Ente whose page they signed in from.
    if (!cfg.portal_oidc_issuer.empty()) {
      web::OidcOptions o;
      o.issuer = cfg.portal_oidc_issuer;
      o.client_id = cfg.portal_oidc_client_id;
      o.client_secret = cfg.portal_oidc_client_secret;
      o.redirect_uri = cfg.PortalRedirectUri();
      o.post_logout_redirect_uri = cfg.PortalPostLogoutRedirectUri();
      o.scopes = cfg.portal_oidc_scopes;
      o.fixed_role = "citizen";
      o.session_ttl = std::chrono::seconds(cfg.portal_session_seconds);
      o.clock = &clock;
      portal_oidc = std::make_unique<web::OidcClient>(std::move(o));
    }
    web::AddPortalPages(router, api, *site, portal_oidc.get(),
                        {.secure_cookies = !cfg.http_tls_certificate.empty()});
    fmt::print("procedo: citizens' services portal at /servizi{}\n",
               portal_oidc ? fmt::format(", sign-in with {}", cfg.portal_oidc_issuer)
                           : " (no sign-in: set portal.oidc_issuer and portal.oidc_client_id)");
  }
  if (driven_waiter) {
    http::AddTestingClockRoutes(router, api, [w = driven_waiter.get()](TimePoint t) { w->Set(t); });
  }

  auto listen = ParseListen(cfg.http_listen);
  if (!listen.ok()) return Fail(listen.status());
  http::ServerOptions so;
  so.address = listen->first;
  so.port = listen->second;
  so.body_limit = static_cast<size_t>(cfg.http_body_limit);
  so.worker_threads = static_cast<int>(cfg.http_worker_threads);
  so.read_timeout = std::chrono::seconds(cfg.http_read_timeout);
  so.idle_timeout = std::chrono::seconds(cfg.http_idle_timeout);
  so.tls_certificate = cfg.http_tls_certificate;
  so.tls_private_key = cfg.http_tls_private_key;
  so.on_response = [&metrics](const http::Request& r, int status, double secs) {
    metrics.ObserveRequest(r.route.empty() ? "unmatched" : r.route, status, secs);
  };
  if (cfg.http_access_log) so.trace = http::PrintTrace;
  http::Server server(so, router);
  auto port = server.Start();
  if (!port.ok()) return Fail(port.status());
  const char* scheme = so.tls_certificate.empty() ? "http" : "https";
  fmt::print("procedo: HTTP API on {}://{}:{} (OpenAPI at /openapi.json)\n", scheme, so.address,
             *port);
  if (dev_key) {
    fmt::print(
        "procedo: no JWT key configured: accepting development tokens; get one with\n"
        "  build/bin/procedo token --role operator --tenant comune-forli --sub op1\n");
  }
  fmt::print("procedo: serving; stop with Ctrl-C (SIGHUP reloads the keys)\n");
  std::fflush(stdout);
  int sig = 0;
  for (;;) {
    sigwait(&stop, &sig);
    if (sig != SIGHUP) break;
    Status reloaded = (*auth)->Reload();
    fmt::print("procedo: SIGHUP: {}\n", reloaded.ok() ? "keys reloaded" : reloaded.ToString());
    std::fflush(stdout);
  }
  fmt::print("procedo: signal {}, stopping\n", sig);
  std::fflush(stdout);
  if (const size_t cut_off = server.Stop(); cut_off > 0) {
    fmt::print("procedo: {} connection(s) still busy after the {} s drain were closed\n", cut_off,
               so.drain_timeout.count());
  } else {
    fmt::print("procedo: every connection drained\n");
  }
  consumers.StopAll();
  fmt::print("procedo: stopped\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cmd =
      app.add_subcommand("serve", "Serve the HTTP API over the event log until SIGINT/SIGTERM");
  cmd->callback([&g, exit_code] {
    auto cfg = Load(g);
    if (!cfg.ok()) {
      *exit_code = Fail(cfg.status());
      return;
    }
    *exit_code = Serve(*cfg);
  });
}

}  // namespace procedo::cli
