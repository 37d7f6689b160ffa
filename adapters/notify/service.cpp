#include "adapters/notify/service.h"

#include <cstdlib>
#include <cstring>

#include "projections/notifier_state.h"

namespace procedo::notify {

Result<std::unique_ptr<NotifyService>> StartNotifyService(const Config& cfg, LogStore& log,
                                                          const EventSchemas& schemas) {
  auto svc = std::make_unique<NotifyService>();
  auto secret = projections::LoadOrCreateSecret(cfg.NotifySecretFile());
  if (!secret.ok()) return secret.status();
  svc->secret = *secret;
  projections::CitizenAccessOptions cao;
  cao.secret = svc->secret;
  cao.max_failures = static_cast<int>(cfg.citizen_max_failures);
  cao.lockout_base = std::chrono::seconds(cfg.citizen_lockout_seconds);
  cao.session_ttl = std::chrono::seconds(cfg.citizen_session_seconds);
  svc->citizen = std::make_unique<projections::CitizenAccess>(log, schemas, cao);
  if (!cfg.notify_enabled) return svc;

  auto templates = projections::TemplateSet::LoadDir(cfg.domain_dir + "/templates");
  if (!templates.ok()) return templates.status();
  svc->templates = std::move(templates).value();
  SmtpOptions smtp;
  smtp.host = cfg.notify_smtp_host;
  smtp.port = static_cast<int>(cfg.notify_smtp_port);
  smtp.starttls = cfg.notify_smtp_starttls;
  smtp.username = cfg.notify_smtp_username;
  smtp.password = cfg.notify_smtp_password;
  smtp.from = cfg.notify_from;
  smtp.timeout = std::chrono::milliseconds(cfg.notify_timeout_ms);
  SmsOptions sms;
  sms.url = cfg.notify_sms_url;
  sms.secret = cfg.notify_sms_secret;
  sms.sender = cfg.notify_sms_sender;
  sms.timeout = std::chrono::milliseconds(cfg.notify_timeout_ms);
  svc->sender = std::make_unique<ChannelSender>(smtp, sms);
  projections::NotifierOptions no;
  no.secret = svc->secret;
  no.base_url = cfg.notify_base_url;
  no.sla_fallback_email = cfg.notify_sla_email;
  no.max_attempts = static_cast<int>(cfg.notify_max_attempts);
  no.retry_base = std::chrono::milliseconds(cfg.notify_retry_base_ms);
  no.retry_max = std::chrono::milliseconds(cfg.notify_retry_max_ms);
  const char* crash = std::getenv("PROCEDO_NOTIFY_CRASH_AFTER_SEND");
  no.crash_after_send = crash != nullptr && std::strcmp(crash, "1") == 0;
  auto state = ViewStore::Open(cfg.NotifierPath(), {projections::kNotifierView});
  if (!state.ok()) return state.status();
  svc->state = std::move(state).value();
  svc->notifier = std::make_unique<projections::Notifier>(log, *svc->state, schemas,
                                                          svc->templates, *svc->sender, no);
  if (Status s = svc->notifier->Start(); !s.ok()) return s;
  return svc;
}

}  // namespace procedo::notify
