// IMAP IDLE (RFC 2177) for the mailbox reactor: a second connection that libcurl opens and logs
// in (CURLOPT_CONNECT_ONLY), then SELECT and IDLE sent over curl_easy_send/recv, since libcurl
// has no IDLE of its own. It only says "new mail"; every read stays on the main connection.
#include <curl/curl.h>
#include <fmt/format.h>
#include <poll.h>

#include "adapters/mail/imap.h"

namespace procedo::mail {
namespace {

// RFC 2177: a server may drop a connection idle for 30 minutes; IDLE is issued again before.
// This is the network's timer (steady time), not the product's clock.
constexpr std::chrono::minutes kReissueIdle{25};

}  // namespace

void ImapMailSource::CloseIdle() {
  if (idle_) curl_easy_cleanup(static_cast<CURL*>(idle_));
  idle_ = nullptr;
  idle_buffer_.clear();
}

Status ImapMailSource::SendLine(const std::string& line) {
  CURL* c = static_cast<CURL*>(idle_);
  size_t done = 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (done < line.size()) {
    size_t n = 0;
    CURLcode rc = curl_easy_send(c, line.data() + done, line.size() - done, &n);
    if (rc == CURLE_AGAIN) {
      if (std::chrono::steady_clock::now() > deadline) break;
      curl_socket_t fd = CURL_SOCKET_BAD;
      curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
      pollfd p{static_cast<int>(fd), POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    if (rc != CURLE_OK) {
      return Status::Unavailable(fmt::format("IMAP IDLE connection: {}", curl_easy_strerror(rc)));
    }
    done += n;
  }
  if (done < line.size()) return Status::Unavailable("IMAP IDLE connection: sending timed out");
  return Status::Ok();
}

Result<bool> ImapMailSource::ReadUntil(const std::string& until,
                                       std::chrono::milliseconds timeout) {
  CURL* c = static_cast<CURL*>(idle_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (idle_buffer_.find(until) != std::string::npos) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    curl_socket_t fd = CURL_SOCKET_BAD;
    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
    if (fd == CURL_SOCKET_BAD) return Status::Unavailable("IMAP IDLE connection closed");
    pollfd p{static_cast<int>(fd), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    size_t n = 0;
    CURLcode rc = curl_easy_recv(c, buf, sizeof buf, &n);
    if (rc == CURLE_AGAIN) continue;
    if (rc != CURLE_OK || n == 0) {
      return Status::Unavailable(
          fmt::format("IMAP IDLE connection: {}",
                      rc == CURLE_OK ? "closed by the server" : curl_easy_strerror(rc)));
    }
    idle_buffer_.append(buf, n);
    if (idle_buffer_.size() > (1 << 20)) idle_buffer_.erase(0, idle_buffer_.size() - 4096);
  }
}

Status ImapMailSource::OpenIdle() {
  CURL* c = curl_easy_init();
  if (!c) return Status::Unavailable("libcurl could not create a handle");
  idle_ = c;
  curl_easy_setopt(c, CURLOPT_URL, (base_ + "/").c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);  // connect and log in, then hand over
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (options_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (CURLcode rc = curl_easy_perform(c); rc != CURLE_OK) {
    CloseIdle();
    return Status::Unavailable(
        fmt::format("IMAP IDLE connection to {}: {}", base_, curl_easy_strerror(rc)));
  }
  auto step = [&](const std::string& line, const std::string& until) -> Status {
    if (Status s = SendLine(line); !s.ok()) return s;
    auto got = ReadUntil(until, options_.timeout);
    if (!got.ok()) return got.status();
    if (!*got || idle_buffer_.find("BAD") != std::string::npos ||
        idle_buffer_.find(" NO ") != std::string::npos) {
      return Status::Unavailable(fmt::format("the IMAP server refused {} ({})",
                                             line.substr(0, line.find(' ', 3)),
                                             idle_buffer_.substr(0, 200)));
    }
    idle_buffer_.clear();
    return Status::Ok();
  };
  Status s = step(fmt::format("i1 SELECT \"{}\"\r\n", options_.folder), "i1 ");
  if (s.ok()) s = step("i2 IDLE\r\n", "+ ");
  if (!s.ok()) {
    CloseIdle();
    return s;
  }
  idle_since_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

Result<bool> ImapMailSource::AwaitNew(std::chrono::milliseconds slice) {
  std::lock_guard lock(idle_mu_);
  if (!idle_) {
    // Mail that arrived after the last pass read the folder and before IDLE began is announced
    // by no one: with IDLE now running, a pass is due, and later mail will be announced.
    if (Status s = OpenIdle(); !s.ok()) return s;
    return true;
  } else if (std::chrono::steady_clock::now() - idle_since_ > kReissueIdle) {
    Status s = SendLine("DONE\r\n");
    auto done = s.ok() ? ReadUntil("i2 ", options_.timeout) : Result<bool>(s);
    idle_buffer_.clear();
    s = done.ok() && *done ? SendLine("i2 IDLE\r\n") : Status::Unavailable("IDLE did not end");
    if (s.ok()) {
      auto again = ReadUntil("+ ", options_.timeout);
      s = again.ok() && *again ? Status::Ok() : Status::Unavailable("IDLE did not start again");
    }
    if (!s.ok()) {
      CloseIdle();
      return s;
    }
    idle_buffer_.clear();
    idle_since_ = std::chrono::steady_clock::now();
    return true;  // what was announced between DONE and the new IDLE went with the buffer
  }
  // "* 12 EXISTS": a message arrived (RFC 3501 7.3.1). What came before it is consumed with it.
  auto got = ReadUntil(" EXISTS", slice);
  if (!got.ok()) {
    CloseIdle();
    return got.status();
  }
  if (*got) idle_buffer_.clear();
  return *got;
}

}  // namespace procedo::mail
