// The help desk's mailbox in: a reactor that polls one tenant's mailbox (a MailSource, IMAP in
// production: adapters/mail) on the injected clock and turns each new message into a command of
// the help-desk workflow, through the command handler like every other writer: a new ticket
// (channel email, the sender as requester), a message on the ticket it answers, the answer to an
// information request (the clocks run again), a reopening (an answer to the closing mail within
// the window) or a new ticket linked to the old one. Auto-replies, bounces and loops are filed
// away unanswered; a message over the size limit is refused and its sender told (the mailbox
// workflow's mail.refused, which the notifier sends).
//
// Exactly once across crashes: each message's command carries an idempotency key derived from
// the mailbox's UIDVALIDITY, the message's UID and its Message-ID, and the message is flagged
// only after its command is durable; the checkpoint (UIDVALIDITY, last UID) moves only over
// messages flagged. A crash in between reads the message again and the log answers the retry.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/base/status.h"
#include "engine/views/consumer.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/sla_timer.h"

namespace procedo::projections {

struct MailAttachment {
  std::string name;
  std::string content_type;
  std::string content;  // decoded bytes
};

// One message as the source parsed it. `raw` is always the original; the rest is empty for what
// the message lacks (or for a message that could not be parsed at all: `parsed` false).
struct InboundMail {
  std::string raw;
  bool parsed = false;
  std::string from;  // the sender's address
  std::string subject;
  std::string message_id;               // without <>
  std::vector<std::string> replied_to;  // In-Reply-To, then References (newest first), without <>
  std::string text;                     // the plain-text body, UTF-8
  // Lowercase names of the headers that tell automatic mail and loops: auto-submitted,
  // precedence, return-path, x-autoreply, x-autorespond, list-id, content-type.
  std::map<std::string, std::string> headers;
  std::vector<MailAttachment> attachments;
};

struct MailSummary {
  uint64_t uid = 0;
  uint64_t size = 0;    // RFC822.SIZE
  bool filed = false;   // flagged by an earlier pass
};

struct MailboxStatus {
  uint64_t uidvalidity = 0;
  uint64_t uidnext = 0;
};

// The mailbox, as the reactor needs it. Implemented over IMAP by adapters/mail.
class MailSource {
 public:
  virtual ~MailSource() = default;
  virtual Result<MailboxStatus> State() = 0;
  // Messages with UID >= from_uid, in UID order.
  virtual Result<std::vector<MailSummary>> List(uint64_t from_uid) = 0;
  // The whole message, or only its header (for one too large to fetch).
  virtual Result<InboundMail> Fetch(uint64_t uid, bool headers_only) = 0;
  // Marks the messages handled (seen and flagged), so no later pass takes them again.
  virtual Status MarkFiled(const std::vector<uint64_t>& uids) = 0;
  // Waits up to `slice` for the mailbox to announce new mail (IMAP IDLE): true when it did. A
  // source that cannot tell answers an error, and the reactor polls on its interval alone.
  virtual Result<bool> AwaitNew(std::chrono::milliseconds slice) {
    (void)slice;
    return Status::Unavailable("this mail source cannot announce new mail; polling instead");
  }
};

struct MailboxOptions {
  std::string tenant;   // the one tenant the mailbox belongs to
  std::string address;  // its address (Reply-To of the help desk's mail)
  // Our own senders (the mailbox, the notifier's From): mail from them is a loop.
  std::vector<std::string> own_addresses;
  std::chrono::seconds poll_interval{60};
  // Also wake as soon as the server announces new mail (IMAP IDLE), the interval staying as the
  // backstop; false: the interval alone.
  bool idle = true;
  // An answer to the closing mail within this long after the closing reopens the ticket; later
  // (or once archived) it opens a new ticket linked to the old one.
  std::chrono::seconds reopen_window{std::chrono::hours(24 * 7)};
  uint64_t max_message_bytes = 10 << 20;
  std::string blob_dir;         // originals and attachments by SHA-256 of their content
  std::string checkpoint_file;  // "<uidvalidity> <last uid>"
  // Fault point (only in builds with PROCEDO_FAULT_POINTS): SIGKILL the process right after the
  // first group's commands are durable, before its messages are flagged.
  bool crash_after_file = false;
};

class MailboxReactor final : public Consumer {
 public:
  MailboxReactor(CommandHandler& commands, MailSource& source, Waiter& waiter,
                 MailboxOptions options);
  ~MailboxReactor() override;

  std::string name() const override { return "mailbox"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

  // One pass over the new messages, as the polling thread makes it (tests and the benchmark).
  // Messages go in groups of kGroup: their originals are made durable together, the tickets
  // they open are appended together (one group commit), and they are flagged together.
  Status PollOnce();
  static constexpr size_t kGroup = 64;

 private:
  enum class Outcome { kOpened, kFiled, kResumed, kReopened, kIgnored, kRefused };
  void Run();
  Status LoadCheckpoint();
  Status SaveCheckpoint() const;
  // Files one message; ok when it may be flagged once `opens` are durable (filed, deduplicated,
  // deliberately ignored, or a new ticket whose open_ticket it adds to `opens`).
  Result<Outcome> Handle(const MailSummary& summary, uint64_t uidvalidity,
                         std::vector<Command>* opens);
  // Appends the group's new tickets together, after their originals are durable.
  Status OpenTickets(const std::vector<Command>& opens);
  // Makes the blobs written since the last call durable (one sync for the group, not one per file).
  Status SyncBlobs();
  // A message over the size limit, read from its header alone.
  Result<Outcome> Refuse(const MailSummary& summary, const InboundMail& head,
                         const std::string& key);
  // The ticket a message answers, in this mailbox's tenant only; "" for none.
  std::string ThreadOf(const InboundMail& mail);
  Result<std::string> StoreBlob(const std::string& bytes);
  Result<CommandOutcome> Send(const std::string& stream, const std::string& command,
                              nlohmann::json payload, const std::string& key);

  CommandHandler& commands_;
  MailSource& source_;
  Waiter& waiter_;
  MailboxOptions options_;

  mutable std::mutex mu_;  // guards what Progress reads
  uint64_t uidvalidity_ = 0, last_uid_ = 0, pending_ = 0;
  bool blobs_dirty_ = false;  // the polling thread's only
  Status health_;
  std::map<std::string, double> counters_;

  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace procedo::projections
