#include "adapters/notify/service.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "projections/reactors/notifier_state.h"

namespace procedo::notify {
namespace {

// For stream kinds whose events name no office (tickets), the catalogue entry of their workflow;
// a kind with several entries is left out (which office would it be?), cases carry their own.
std::map<std::string, nlohmann::json> CatalogueByKind(const domain::Domain& domain) {
  std::map<std::string, nlohmann::json> out;
  std::map<std::string, int> seen;
  for (const auto& [id, entry] : domain.catalogue->entries()) {
    const WorkflowDefinition* wf = domain.workflows.ById(entry.workflow);
    if (wf == nullptr || wf->stream_kind == "case") continue;
    if (++seen[wf->stream_kind] == 1)
      out[wf->stream_kind] = entry.source;
    else
      out.erase(wf->stream_kind);
  }
  return out;
}

}  // namespace

NotifyChannels DescribeChannels(const Config& cfg) {
  NotifyChannels c;
  c.email = !cfg.notify_smtp_host.empty();
  c.sms = !cfg.notify_sms_url.empty();
  if (!cfg.notify_enabled) {
    c.summary = "notifier off: notify.enabled = false (citizen login still on)";
    return c;
  }
  if (!c.email && !c.sms) {
    c.summary =
        "notifier off: no channel configured; set notify.smtp_host (e-mail) and/or "
        "notify.sms_url (SMS) to send case and ticket notifications (citizen login still on)";
    return c;
  }
  c.on = true;
  std::string email =
      c.email ? fmt::format("e-mail via smtp://{}:{}{}", cfg.notify_smtp_host, cfg.notify_smtp_port,
                            cfg.notify_smtp_starttls ? " (STARTTLS)" : "")
              : "e-mail off (notify.smtp_host empty)";
  std::string sms =
      c.sms ? fmt::format("SMS via {}", cfg.notify_sms_url) : "SMS off (notify.sms_url empty)";
  c.summary = fmt::format("notifier on: {}, {}; links to {}", email, sms, cfg.notify_base_url);
  return c;
}

Result<std::unique_ptr<NotifyService>> StartNotifyService(const Config& cfg,
                                                          CommandHandler& commands,
                                                          const domain::Domain& domain,
                                                          const Clock& clock,
                                                          const crypto::PersonalData* personal) {
  auto svc = std::make_unique<NotifyService>();
  auto secret = domain::LoadOrCreateSecret(cfg.NotifySecretFile());
  if (!secret.ok()) return secret.status();
  svc->secret = *secret;
  domain::CitizenAccessOptions cao;
  cao.secret = svc->secret;
  cao.max_failures = static_cast<int>(cfg.citizen_max_failures);
  cao.lockout_base = std::chrono::seconds(cfg.citizen_lockout_seconds);
  cao.session_ttl = std::chrono::seconds(cfg.citizen_session_seconds);
  cao.clock = &clock;
  svc->citizen = std::make_unique<domain::CitizenAccess>(commands, cao);
  NotifyChannels channels = DescribeChannels(cfg);
  svc->summary = channels.summary;
  if (!channels.on) return svc;

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
  svc->sender = std::make_unique<ChannelSender>(smtp, sms, personal);
  projections::NotifierOptions no;
  no.secret = svc->secret;
  no.base_url = cfg.notify_base_url;
  no.sla_fallback_email = cfg.notify_sla_email;
  no.email = channels.email;
  no.sms = channels.sms;
  no.history = cfg.notify_history;
  no.catalogue_by_kind = CatalogueByKind(domain);
  no.tenants = domain.calendars;
  no.services = domain.services;
  no.workflows = &domain.workflows;
  // The help desk's mailbox files answers to a ticket's mail: they go there, not to notify.from.
  if (cfg.mail_enabled && !cfg.mail_tenant.empty() && !cfg.mail_address.empty()) {
    no.reply_to[cfg.mail_tenant] = cfg.mail_address;
  }
  no.max_attempts = static_cast<int>(cfg.notify_max_attempts);
  no.retry_base = std::chrono::milliseconds(cfg.notify_retry_base_ms);
  no.retry_max = std::chrono::milliseconds(cfg.notify_retry_max_ms);
  no.clock = &clock;
#ifdef PROCEDO_FAULT_POINTS
  no.crash_after_send =
      cfg.testing_fault_points.find("notify.crash_after_send") != std::string::npos;
#endif
  auto state = ViewStore::Open(cfg.NotifierPath(), {projections::kNotifierView});
  if (!state.ok()) return state.status();
  svc->state = std::move(state).value();
  svc->notifier = std::make_unique<projections::Notifier>(commands, *svc->state, svc->templates,
                                                          *svc->sender, no);
  return svc;
}

std::string NotifyService::Summary() const {
  if (!notifier) return summary;
  auto st = notifier->stats();
  std::string out = summary + fmt::format(
                                  "; resumed from its checkpoint at log position {}, {} "
                                  "new events folded",
                                  st.resumed_from, st.applied);
  if (st.notify_from > 1) {
    out += fmt::format(
        "; events before position {} predate the notifier and get no messages "
        "(notify.history)",
        st.notify_from);
  }
  return out;
}

}  // namespace procedo::notify
