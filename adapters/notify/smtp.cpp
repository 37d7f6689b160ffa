#include <curl/curl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstring>

#include "adapters/notify/senders.h"
#include "engine/base/base64.h"

namespace procedo::notify {
namespace {

std::string Base64(const std::string& in) { return Base64Encode(in); }

std::string AddressOf(const std::string& from) {
  auto lt = from.find('<'), gt = from.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
    return from.substr(lt + 1, gt - lt - 1);
  }
  return from;
}

// Header values may not hold line breaks: a subject with one would inject headers.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

struct Reader {
  const std::string* text;
  size_t offset = 0;
};

size_t ReadChunk(char* buf, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  size_t len = std::min(size * n, r->text->size() - r->offset);
  std::memcpy(buf, r->text->data() + r->offset, len);
  r->offset += len;
  return len;
}

}  // namespace

std::string FormatEmail(const projections::OutgoingMessage& m, const std::string& from,
                        std::chrono::system_clock::time_point now) {
  std::string address = AddressOf(from);
  std::string domain = address.substr(address.find('@') + 1);
  std::string body64 = Base64(m.body);
  std::string wrapped;
  for (size_t i = 0; i < body64.size(); i += 76) wrapped += body64.substr(i, 76) + "\r\n";
  // Answers to a ticket's mail go to the help desk's mailbox, not to the unattended sender.
  const std::string reply_to =
      m.reply_to.empty() ? "" : fmt::format("Reply-To: <{}>\r\n", OneLine(m.reply_to));
  return fmt::format(
      "From: {}\r\nTo: <{}>\r\n{}Subject: =?UTF-8?B?{}?=\r\nMessage-ID: <{}@{}>\r\n"
      "Date: {:%a, %d %b %Y %H:%M:%S} +0000\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
      OneLine(from), OneLine(m.recipient), reply_to, Base64(OneLine(m.subject)), m.message_id, domain,
      std::chrono::floor<std::chrono::seconds>(now), wrapped);
}

SmtpSender::SmtpSender(SmtpOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  url_ = fmt::format("smtp://{}:{}", options_.host, options_.port);
  curl_ = curl_easy_init();
}

SmtpSender::~SmtpSender() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status SmtpSender::Send(const projections::OutgoingMessage& m) {
  std::lock_guard<std::mutex> lock(mu_);
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Unavailable("libcurl could not create a handle");
  std::string text = FormatEmail(m, options_.from, std::chrono::system_clock::now());
  Reader reader{&text};
  std::string from = "<" + AddressOf(options_.from) + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + OneLine(m.recipient) + ">").c_str());
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(c);  // keeps the open connection; clears the previous message's options
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &reader);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (options_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(rcpt);
  if (rc != CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return Status::Unavailable(fmt::format("SMTP {}:{}: {}{}", options_.host, options_.port,
                                           error[0] ? error : curl_easy_strerror(rc),
                                           code ? fmt::format(" (reply {})", code) : ""));
  }
  return Status::Ok();
}

}  // namespace procedo::notify
