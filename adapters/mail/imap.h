// The help desk's mailbox over IMAP (libcurl), parsed with GMime: the MailSource the mailbox
// reactor (projections/reactors/mailbox.h) reads.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "projections/reactors/mailbox.h"

namespace procedo::mail {

struct ImapOptions {
  std::string url = "imap://127.0.0.1:143";  // imaps:// for TLS on connect
  std::string folder = "INBOX";
  std::string username, password;
  bool starttls = false;  // require STARTTLS on imap://
  std::chrono::milliseconds timeout{30000};
};

// A message's bytes as one InboundMail: sender, subject (RFC 2047 decoded), Message-ID, what it
// answers, the plain text (any charset, to UTF-8), attachments decoded. Malformed MIME never
// throws: what cannot be read is left empty, and `parsed` is false only when not even a header
// could be read.
projections::InboundMail ParseMail(std::string raw);

// One connection, reused across calls (libcurl keeps it open); calls are serialised.
class ImapMailSource final : public projections::MailSource {
 public:
  explicit ImapMailSource(ImapOptions options);
  ~ImapMailSource() override;
  Result<projections::MailboxStatus> State() override;
  Result<std::vector<projections::MailSummary>> List(uint64_t from_uid) override;
  Result<projections::InboundMail> Fetch(uint64_t uid, bool headers_only) override;
  Status MarkFiled(const std::vector<uint64_t>& uids) override;
  // IMAP IDLE (RFC 2177) on a connection of its own, opened on first use and again after a
  // failure; the reading stays on the main connection.
  Result<bool> AwaitNew(std::chrono::milliseconds slice) override;

  // The keyword that marks a message filed (with \Seen).
  static constexpr const char* kFiledKeyword = "$ProcedoFiled";

 private:
  // Runs `request` (a command of its own, or empty for the URL's default: a fetch) against
  // `url_path` and returns what the server sent back (untagged lines or the message body).
  Result<std::string> Perform(const std::string& url_path, const std::string& request);

  Status OpenIdle();
  void CloseIdle();
  Status SendLine(const std::string& line);
  // Reads from the IDLE connection until `until` appears in what it received, or the timeout.
  Result<bool> ReadUntil(const std::string& until, std::chrono::milliseconds timeout);

  ImapOptions options_;
  std::string base_;  // url without a trailing slash
  std::mutex mu_;
  void* curl_ = nullptr;  // CURL*, kept out of the header
  // The IDLE connection: its handle, what it received not yet consumed, when IDLE was issued.
  std::mutex idle_mu_;
  void* idle_ = nullptr;
  std::string idle_buffer_;
  std::chrono::steady_clock::time_point idle_since_{};
};

}  // namespace procedo::mail
