// The help desk's mailbox as `procedo serve` runs it: the IMAP source and the mailbox reactor,
// from the mail.* settings.
#pragma once

#include <memory>
#include <string>

#include "adapters/config.h"
#include "adapters/mail/imap.h"
#include "projections/reactors/mailbox.h"

namespace procedo::mail {

struct MailService {
  std::unique_ptr<ImapMailSource> source;
  std::unique_ptr<projections::MailboxReactor> reactor;  // null: no mailbox is read
  std::string summary;  // one line for serve: which mailbox, or why none
};

// `waiter` is the server's one clock's (the driven one in tests).
Result<std::unique_ptr<MailService>> StartMailService(const Config& cfg, CommandHandler& commands,
                                                      projections::Waiter& waiter);

}  // namespace procedo::mail
