// notify: state changes of cases through the notifier (plan, render, SMTP over libcurl, record
// notification.sent) to a local SMTP sink, against a plain libcurl SMTP sender of the same
// messages from the same process, to the same sink, in the same run.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "adapters/notify/senders.h"
#include "bench/cases.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/notifier.h"
#include "projections/reactors/notifier_state.h"

namespace procedo::bench {
namespace {

// The smallest SMTP server that libcurl accepts, so that the sink is not what is measured.
class SmtpSink {
 public:
  SmtpSink() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::thread([this, c] { Serve(c); }).detach();
      }
    });
  }
  ~SmtpSink() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    accept_.join();
  }
  int port() const { return port_; }
  uint64_t messages() const { return messages_.load(); }

 private:
  void Serve(int c) {
    auto say = [c](const char* s) { return ::send(c, s, std::strlen(s), MSG_NOSIGNAL) >= 0; };
    say("220 sink ESMTP\r\n");
    std::string buf;
    bool data = false;
    char chunk[65536];
    for (;;) {
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      for (;;) {
        if (data) {
          auto end = buf.find("\r\n.\r\n");
          if (end == std::string::npos) break;
          buf.erase(0, end + 5);
          data = false;
          messages_.fetch_add(1);
          say("250 queued\r\n");
          continue;
        }
        auto nl = buf.find("\r\n");
        if (nl == std::string::npos) break;
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 2);
        if (line.rfind("EHLO", 0) == 0) say("250-sink\r\n250 8BITMIME\r\n");
        else if (line.rfind("DATA", 0) == 0) data = true, say("354 go\r\n");
        else if (line.rfind("QUIT", 0) == 0) { say("221 bye\r\n"); break; }
        else say("250 ok\r\n");
      }
    }
    ::close(c);
  }
  int fd_ = -1;
  int port_ = 0;
  std::thread accept_;
  std::atomic<uint64_t> messages_{0};
};

struct Keeping final : projections::MessageSender {
  notify::SmtpSender& inner;
  std::vector<projections::OutgoingMessage> kept;
  explicit Keeping(notify::SmtpSender& s) : inner(s) {}
  Status Send(const projections::OutgoingMessage& m) override {
    kept.push_back(m);
    return inner.Send(m);
  }
};

size_t ReadText(char* buf, size_t size, size_t n, void* user) {
  auto* r = static_cast<std::pair<const std::string*, size_t>*>(user);
  size_t len = std::min(size * n, r->first->size() - r->second);
  std::memcpy(buf, r->first->data() + r->second, len);
  r->second += len;
  return len;
}

}  // namespace

int RunNotifyCase(const Limits& limits, const std::string& source_dir) {
  // 100 state changes per case: start (credentials, Argon2id at the cost the server uses),
  // 98 suspensions and resumptions, closure. Each change is one e-mail.
  uint64_t changes = std::min<uint64_t>(limits.max_events, 100'000);
  uint64_t cases = std::max<uint64_t>(1, changes / 100);
  changes = cases * 100;
  ScratchDir dir("notify");
  LogOptions lo;
  lo.path = dir.path() + "/log";
  lo.sync = false;  // loading the cases is not what is measured
  auto log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto schemas = EventSchemas::LoadDir(source_dir + "/schemas/events");
  auto templates = projections::TemplateSet::LoadDir(source_dir + "/domain/templates");
  if (!schemas.ok() || !templates.ok()) throw std::runtime_error("schemas or templates");
  for (uint64_t c = 1; c <= cases; ++c) {
    AppendRequest req{fmt::format("case-bench-{}", c), ExpectedVersion::NoStream(), {}, ""};
    nlohmann::json start = {{"case_code", fmt::format("B-{}", c)},
                            {"procedure_name", "Permesso di costruire"},
                            {"applicant", {{"name", "Anna"}, {"email", fmt::format("a{}@example.it", c)}}},
                            {"consent", {{"sms", false}, {"email", true}}},
                            {"office", {{"name", "SUE"}, {"phone", "0543 1"}, {"email", "sue@pa.example.it"}}},
                            {"responsible", {{"name", "Ing. Rossi"}}},
                            {"term_text", "60 gg. dalla presentazione della domanda"}};
    req.events.push_back({"case.started", start.dump(), "bench", R"({"id":"op"})", "", "", {}});
    for (int i = 0; i < 98; ++i) {
      req.events.push_back({i % 2 ? "case.resumed" : "case.suspended",
                            fmt::format(R"({{"reason":"Motivo numero {}"}})", i), "bench",
                            R"({"id":"op"})", "", "", {}});
    }
    req.events.push_back({"case.closed", R"({"outcome":"accepted","reason":"Conforme"})", "bench",
                          R"({"id":"op"})", "", "", {}});
    if (auto r = (*log)->Append(std::move(req)); !r.ok()) throw std::runtime_error(r.status().ToString());
  }

  // The notifier records every delivery and every credential through the command path, synced
  // as `procedo serve` does.
  log->reset();
  lo.sync = true;
  log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  SmtpSink sink;
  notify::SmtpOptions so;
  so.port = sink.port();
  notify::SmtpSender smtp(so);
  Keeping sender(smtp);
  projections::NotifierOptions no;
  no.secret = std::string(32, 'b');
  no.hash_cost = domain::PasswordHashCost::Interactive();
  // The notifier's state store, as `procedo serve` opens it: its fold is part of the cost.
  auto state = ViewStore::Open(dir.path() + "/notifier", {projections::kNotifierView});
  if (!state.ok()) throw std::runtime_error(state.status().ToString());
  auto dom = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!dom.ok()) throw std::runtime_error(dom.status().ToString());
  // The delivery records are commands of the notification workflow, as in the server.
  CommandHandler commands(**log, (*dom)->workflows, (*dom)->events, nullptr);
  projections::Notifier notifier(commands, **state, *templates, sender, no);
  auto t0 = std::chrono::steady_clock::now();
  if (Status s = notifier.CatchUp(); !s.ok()) throw std::runtime_error(s.ToString());
  while (notifier.stats().sent < changes) {
    auto r = notifier.Pump(std::chrono::milliseconds(10));
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    if (std::chrono::steady_clock::now() - t0 > limits.max_time * 30) break;
  }
  notifier.Drain();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t sent = notifier.stats().sent;
  double value = static_cast<double>(sent) / secs;
  fmt::print("notify: {} state changes in {} cases -> {} e-mails recorded in {:.2f} s ({} in the sink)\n",
             changes, cases, sent, secs, sink.messages());

  double baseline = 0;
  if (!limits.skip_baseline) {
    CURL* c = curl_easy_init();
    std::string url = fmt::format("smtp://127.0.0.1:{}", sink.port());
    auto b0 = std::chrono::steady_clock::now();
    for (const auto& m : sender.kept) {
      std::string text = notify::FormatEmail(m, so.from, std::chrono::system_clock::now());
      std::pair<const std::string*, size_t> reader{&text, 0};
      curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str());
      curl_easy_reset(c);
      curl_easy_setopt(c, CURLOPT_URL, url.c_str());
      curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<noreply@procedo.local>");
      curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadText);
      curl_easy_setopt(c, CURLOPT_READDATA, &reader);
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      CURLcode rc = curl_easy_perform(c);
      curl_slist_free_all(rcpt);
      if (rc != CURLE_OK) throw std::runtime_error(curl_easy_strerror(rc));
    }
    double bsecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    curl_easy_cleanup(c);
    baseline = static_cast<double>(sender.kept.size()) / bsecs;
    fmt::print("notify baseline: {} e-mails by plain libcurl in {:.2f} s\n", sender.kept.size(), bsecs);
  }
  PrintResult("notify", value, baseline);
  return sent == changes ? 0 : 1;
}

}  // namespace procedo::bench
