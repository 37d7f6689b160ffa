#include "adapters/mail/service.h"

#include <fmt/format.h>

namespace procedo::mail {
namespace {

// "Name <a@b>" -> "a@b".
std::string AddressOf(const std::string& from) {
  auto lt = from.find('<'), gt = from.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return from.substr(lt + 1, gt - lt - 1);
  }
  return from;
}

}  // namespace

Result<std::unique_ptr<MailService>> StartMailService(const Config& cfg, CommandHandler& commands,
                                                      projections::Waiter& waiter) {
  auto svc = std::make_unique<MailService>();
  if (!cfg.mail_enabled || cfg.mail_tenant.empty()) {
    svc->summary = cfg.mail_enabled ? "no mailbox (mail.tenant is empty)"
                                    : "no mailbox (mail.enabled = false)";
    return svc;
  }
  ImapOptions io;
  io.url = cfg.mail_imap_url;
  io.folder = cfg.mail_folder;
  io.username = cfg.mail_username;
  io.password = cfg.mail_password;
  io.starttls = cfg.mail_starttls;
  io.timeout = std::chrono::milliseconds(cfg.mail_timeout_ms);
  svc->source = std::make_unique<ImapMailSource>(io);
  projections::MailboxOptions mo;
  mo.tenant = cfg.mail_tenant;
  mo.address = cfg.mail_address;
  mo.own_addresses = {cfg.mail_address, AddressOf(cfg.notify_from)};
  mo.poll_interval = std::chrono::seconds(cfg.mail_poll_seconds);
  mo.idle = cfg.mail_idle;
  mo.reopen_window = std::chrono::hours(cfg.mail_reopen_window_hours);
  mo.max_message_bytes = static_cast<uint64_t>(cfg.mail_max_message_bytes);
  mo.blob_dir = cfg.MailPath() + "/blobs";
  mo.checkpoint_file = cfg.MailPath() + "/checkpoint";
#ifdef PROCEDO_FAULT_POINTS
  mo.crash_after_file =
      cfg.testing_fault_points.find("mail.crash_after_file") != std::string::npos;
#endif
  svc->reactor =
      std::make_unique<projections::MailboxReactor>(commands, *svc->source, waiter, mo);
  svc->summary = fmt::format("mailbox of {} at {}/{}, {}every {} s", cfg.mail_tenant,
                             cfg.mail_imap_url, cfg.mail_folder,
                             cfg.mail_idle ? "IMAP IDLE and " : "", cfg.mail_poll_seconds);
  return svc;
}

}  // namespace procedo::mail
