// What `procedo serve` starts for seed 002: the citizen's access (always, for the routes) and,
// when notify.enabled and at least one channel is configured, the notifier with its SMTP and SMS
// senders.
#pragma once

#include <memory>
#include <string>

#include "adapters/config.h"
#include "adapters/notify/senders.h"
#include "domain/citizen_access.h"
#include "domain/procedures.h"
#include "projections/reactors/notifier.h"

namespace procedo::notify {

struct NotifyService {
  std::string secret;
  std::unique_ptr<domain::CitizenAccess> citizen;
  projections::TemplateSet templates;
  std::unique_ptr<ChannelSender> sender;
  std::unique_ptr<ViewStore> state;  // <data_dir>/notifier: the notifier's fold and checkpoint
  std::unique_ptr<projections::Notifier> notifier;  // null when off
  // One line for the operator: which channels are on, or why the notifier is off.
  std::string summary;
  // The same, once the notifier started, with where it resumed.
  std::string Summary() const;
  ~NotifyService() {
    if (notifier) notifier->Stop();
  }
};

// Which channels the configuration gives, and the line `serve` prints about them.
struct NotifyChannels {
  bool on = false;
  bool email = false;
  bool sms = false;
  std::string summary;
};
NotifyChannels DescribeChannels(const Config& cfg);

// Loads the secret and the templates (<domain_dir>/templates) and makes the notifier, which the
// server's consumer supervisor starts (it catches up with the log, then follows it). Tickets' SLA
// breaches go to the office of the catalogue entry of their workflow. In builds with fault points,
// testing.fault_points = "notify.crash_after_send" kills the process right after the first message
// is sent, before its notification.sent is recorded.
Result<std::unique_ptr<NotifyService>> StartNotifyService(
    const Config& cfg, CommandHandler& commands, const domain::Domain& domain, const Clock& clock,
    const crypto::PersonalData* personal = nullptr);

}  // namespace procedo::notify
