#include "adapters/mail/imap.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

namespace procedo::mail {
namespace {

// A message larger than this is never held in memory, whatever the reactor's limit: the
// reactor fetches only the header of one over its own limit.
constexpr size_t kMaxFetchBytes = size_t{256} << 20;

size_t Append(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxFetchBytes) return 0;  // libcurl aborts the transfer
  out->append(data, size * n);
  return size * n;
}

// The number after `key ` in an IMAP response line ("UIDVALIDITY 1700000000"), or nullopt.
std::optional<uint64_t> NumberAfter(const std::string& line, const std::string& key) {
  size_t at = line.find(key + " ");
  if (at == std::string::npos) return std::nullopt;
  at += key.size() + 1;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(line.data() + at, line.data() + line.size(), v);
  if (ec != std::errc() || p == line.data() + at) return std::nullopt;
  return v;
}

}  // namespace

ImapMailSource::ImapMailSource(ImapOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  base_ = options_.url;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  curl_ = curl_easy_init();
}

ImapMailSource::~ImapMailSource() {
  CloseIdle();
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::string> ImapMailSource::Perform(const std::string& url_path,
                                            const std::string& request) {
  std::lock_guard lock(mu_);
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Unavailable("libcurl could not create a handle");
  const std::string url = base_ + url_path;
  std::string out;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(c);  // keeps the open connection and the folder it selected
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  if (!request.empty()) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  if (options_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return Status::Unavailable(fmt::format(
        "IMAP {} ({}): {}; check mail.imap_url, mail.username and mail.password, and that the "
        "server answers",
        url, request.empty() ? "fetch" : request.substr(0, request.find(' ', 4)),
        error[0] ? error : curl_easy_strerror(rc)));
  }
  return out;
}

Result<projections::MailboxStatus> ImapMailSource::State() {
  // SELECT, not STATUS: on the folder this connection has selected, STATUS may answer from the
  // connection's own view and miss mail delivered since; a new SELECT sees it.
  auto out = Perform("/", fmt::format("SELECT \"{}\"", options_.folder));
  if (!out.ok()) return out.status();
  auto validity = NumberAfter(*out, "UIDVALIDITY");
  auto next = NumberAfter(*out, "UIDNEXT");
  if (!validity || !next) {
    return Status::Unavailable(fmt::format(
        "the IMAP server's SELECT of {} named no UIDVALIDITY and UIDNEXT ({}); check "
        "mail.folder",
        options_.folder, out->substr(0, 200)));
  }
  return projections::MailboxStatus{*validity, *next};
}

Result<std::vector<projections::MailSummary>> ImapMailSource::List(uint64_t from_uid) {
  auto status = State();
  if (!status.ok()) return status.status();
  std::vector<projections::MailSummary> out;
  // "n:*" names the last message even when its UID is below n: ask only when there is more.
  if (from_uid >= status->uidnext) return out;
  // In windows of UIDs: libcurl caps what one command may answer, and a mailbox with a backlog
  // of thousands of messages would pass that cap in one.
  constexpr uint64_t kWindow = 100;
  for (uint64_t first = std::max<uint64_t>(from_uid, 1); first < status->uidnext; first += kWindow) {
    const uint64_t last = std::min(first + kWindow, status->uidnext) - 1;
    auto text = Perform("/" + options_.folder,
                        fmt::format("UID FETCH {}:{} (UID RFC822.SIZE FLAGS)", first, last));
    if (!text.ok()) return text.status();
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" FETCH ") == std::string::npos) continue;
      auto uid = NumberAfter(line, "UID");
      auto size = NumberAfter(line, "RFC822.SIZE");
      if (!uid || *uid < first || *uid > last) continue;
      out.push_back({*uid, size.value_or(0), line.find(kFiledKeyword) != std::string::npos});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.uid < b.uid; });
  return out;
}

Result<projections::InboundMail> ImapMailSource::Fetch(uint64_t uid, bool headers_only) {
  auto raw = Perform(fmt::format("/{}/;UID={}{}", options_.folder, uid,
                                 headers_only ? "/;SECTION=HEADER" : ""),
                     "");
  if (!raw.ok()) return raw.status();
  return ParseMail(std::move(raw).value());
}

Status ImapMailSource::MarkFiled(const std::vector<uint64_t>& uids) {
  if (uids.empty()) return Status::Ok();
  // One STORE for the group, its UIDs as an IMAP sequence set of runs ("3:9,12,15:16").
  std::string set;
  for (size_t i = 0; i < uids.size();) {
    size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!set.empty()) set += ',';
    set += j == i ? fmt::format("{}", uids[i]) : fmt::format("{}:{}", uids[i], uids[j]);
    i = j + 1;
  }
  auto out = Perform("/" + options_.folder,
                     fmt::format("UID STORE {} +FLAGS.SILENT (\\Seen {})", set, kFiledKeyword));
  return out.ok() ? Status::Ok() : out.status();
}

}  // namespace procedo::mail
