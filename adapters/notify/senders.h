// The notifier's channels (projections::MessageSender): e-mail over SMTP and SMS through an HTTP
// gateway, both with libcurl.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

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

// Routes by channel.
class ChannelSender final : public projections::MessageSender {
 public:
  ChannelSender(SmtpOptions smtp, SmsOptions sms) : smtp_(std::move(smtp)), sms_(std::move(sms)) {}
  Status Send(const projections::OutgoingMessage& m) override {
    return m.channel == "sms" ? sms_.Send(m) : smtp_.Send(m);
  }

 private:
  SmtpSender smtp_;
  SmsGatewaySender sms_;
};

}  // namespace procedo::notify
