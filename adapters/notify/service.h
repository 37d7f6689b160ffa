// What `procedo serve` starts for seed 002: the citizen's access (always, for the routes) and,
// when notify.enabled, the notifier with its SMTP and SMS channels.
#pragma once

#include <memory>

#include "adapters/config.h"
#include "adapters/notify/senders.h"
#include "projections/citizen_access.h"
#include "projections/notifier.h"

namespace procedo::notify {

struct NotifyService {
  std::string secret;
  std::unique_ptr<projections::CitizenAccess> citizen;
  projections::TemplateSet templates;
  std::unique_ptr<ChannelSender> sender;
  std::unique_ptr<ViewStore> state;  // <data_dir>/notifier: the notifier's fold and checkpoint
  std::unique_ptr<projections::Notifier> notifier;  // null when notify.enabled is false
  ~NotifyService() {
    if (notifier) notifier->Stop();
  }
};

// Loads the secret and the templates (<domain_dir>/templates), then catches the notifier up with
// the log and starts it. The test hook PROCEDO_NOTIFY_CRASH_AFTER_SEND=1 kills the process right
// after the first message is sent, before its notification.sent is recorded.
Result<std::unique_ptr<NotifyService>> StartNotifyService(const Config& cfg, LogStore& log,
                                                          const EventSchemas& schemas);

}  // namespace procedo::notify
