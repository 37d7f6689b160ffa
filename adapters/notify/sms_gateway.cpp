#include <curl/curl.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "adapters/notify/senders.h"
#include "domain/citizen.h"

namespace procedo::notify {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < 2000) out->append(data, std::min(size * n, 2000 - out->size()));
  return size * n;
}

}  // namespace

std::string SignBody(const std::string& secret, const std::string& body) {
  return "sha256=" + domain::ToHex(domain::HmacSha256(secret, body));
}

SmsGatewaySender::SmsGatewaySender(SmsOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

SmsGatewaySender::~SmsGatewaySender() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status SmsGatewaySender::Send(const projections::OutgoingMessage& m) {
  if (options_.url.empty()) {
    return Status::Unavailable("no SMS gateway configured; set notify.sms_url");
  }
  std::lock_guard<std::mutex> lock(mu_);
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Unavailable("libcurl could not create a handle");
  std::string body = nlohmann::json{{"id", m.message_id},
                                    {"to", m.recipient},
                                    {"from", options_.sender},
                                    {"text", m.body}}
                         .dump();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Idempotency-Key: " + m.message_id).c_str());
  headers = curl_slist_append(headers, ("X-Signature: " + SignBody(options_.secret, body)).c_str());
  std::string reply;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Status::Unavailable(fmt::format("SMS gateway {}: {}", options_.url,
                                           error[0] ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return Status::Unavailable(
        fmt::format("SMS gateway {} answered {}: {}", options_.url, status, reply));
  }
  return Status::Ok();
}

}  // namespace procedo::notify
