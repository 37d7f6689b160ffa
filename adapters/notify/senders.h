// The notifier's channels (projections::MessageSender): e-mail over SMTP and SMS through an HTTP
// gateway, both with libcurl.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "engine/crypto/personal.h"
#include "projections/reactors/notifier.h"

namespace procedo::notify {

struct SmtpOptions {
  std::string host = "127.0.0.1";
  int port = 25;
  bool starttls = false;  // require STARTTLS (CURLUSESSL_ALL)
  std::string username, password;
  std::string from = "La tua pratica on line <noreply@procedo.local>";
  std::chrono::milliseconds timeout{10000};
};

// The whole RFC 5322 message: UTF-8 subject as RFC 2047, body in base64, and the message id as
// Message-ID <id@domain of from> so that a resend after a crash carries the same one.
std::string FormatEmail(const projections::OutgoingMessage& m, const std::string& from,
                        std::chrono::system_clock::time_point now);

// One connection kept open across messages (libcurl reuses it); Send is serialised.
class SmtpSender {
 public:
  explicit SmtpSender(SmtpOptions options);
  ~SmtpSender();
  Status Send(const projections::OutgoingMessage& m);

 private:
  SmtpOptions options_;
  std::string url_;
  std::mutex mu_;
  void* curl_ = nullptr;  // CURL*, kept out of the header
};

struct SmsOptions {
  std::string url;     // empty: no SMS channel (messages fail with a clear error)
  std::string secret;  // HMAC-SHA256 key of the X-Signature header
  std::string sender = "Procedo";
  std::chrono::milliseconds timeout{10000};
};

// "sha256=" + hex(HMAC-SHA256(secret, body)).
std::string SignBody(const std::string& secret, const std::string& body);

// POST {"id","to","from","text"} as JSON with Idempotency-Key: <message id> and X-Signature; any
// 2xx is accepted, anything else is a failed attempt naming the status.
class SmsGatewaySender {
 public:
  explicit SmsGatewaySender(SmsOptions options);
  ~SmsGatewaySender();
  Status Send(const projections::OutgoingMessage& m);

 private:
  SmsOptions options_;
  std::mutex mu_;
  void* curl_ = nullptr;
};

// Routes by channel. With `personal`, the personal values the notifier carries sealed (the
// recipient, a name in the text) are opened here, at the edge, and nowhere before: a recipient
// whose address was erased is refused for good (PermissionDenied), and an erased value in the
// text reads "[dato cancellato]".
class ChannelSender final : public projections::MessageSender {
 public:
  ChannelSender(SmtpOptions smtp, SmsOptions sms, const crypto::PersonalData* personal = nullptr)
      : smtp_(std::move(smtp)), sms_(std::move(sms)), personal_(personal) {}
  Status Send(const projections::OutgoingMessage& m) override {
    if (personal_ == nullptr) return Route(m);
    projections::OutgoingMessage shown = m;
    if (crypto::LooksPersonal(m.recipient)) {
      auto to = personal_->Open(m.recipient);
      if (!to.ok()) {
        return Status::PermissionDenied(
            "the recipient's address cannot be opened (erased, or not this server's); the "
            "message is not sent");
      }
      shown.recipient = std::move(to).value();
    }
    shown.subject = personal_->ShowText(m.subject);
    shown.body = personal_->ShowText(m.body);
    return Route(shown);
  }

 private:
  Status Route(const projections::OutgoingMessage& m) {
    return m.channel == "sms" ? sms_.Send(m) : smtp_.Send(m);
  }
  SmtpSender smtp_;
  SmsGatewaySender sms_;
  const crypto::PersonalData* personal_;
};

}  // namespace procedo::notify
