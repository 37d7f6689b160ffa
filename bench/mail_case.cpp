// mail-in: messages turned into ticket events per second by the mailbox reactor (IMAP fetch over
// libcurl, GMime parse, original stored by hash, open_ticket through the command handler, flag,
// checkpoint) from a real Dovecot, against a plain libcurl IMAP fetch of the same messages from
// the same Dovecot in the same run.
#include <curl/curl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "adapters/mail/imap.h"
#include "bench/cases.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/mailbox.h"

namespace procedo::bench {
namespace {

namespace fs = std::filesystem;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Dovecot from Debian's package, unprivileged (nobody when run as root), on a loopback port,
// over a Maildir written before it starts.
class Dovecot {
 public:
  Dovecot(const std::string& dir, uint64_t messages) : dir_(dir), port_(FreePort()) {
    const bool root = ::geteuid() == 0;
    const passwd* pw = root ? ::getpwnam("nobody") : ::getpwuid(::geteuid());
    if (pw == nullptr) throw std::runtime_error("no user to run dovecot as");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    const group* gr = ::getgrgid(gid_);
    for (const char* sub : {"run", "state", "mail/helpdesk/new", "mail/helpdesk/cur",
                            "mail/helpdesk/tmp"}) {
      fs::create_directories(dir_ + "/" + sub);
    }
    for (uint64_t i = 1; i <= messages; ++i) {
      std::ofstream(fmt::format("{}/mail/helpdesk/new/{}.M{}P1.bench", dir_, 1'700'000'000 + i, i))
          << fmt::format(
                 "From: Utente {0} <u{0}@example.it>\r\nTo: assistenza@comune.forli.example.it\r\n"
                 "Subject: Richiesta di assistenza {0}\r\nMessage-ID: <bench-{0}@example.it>\r\n"
                 "Date: Tue, 24 Nov 2026 09:00:00 +0100\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=UTF-8\r\n\r\nIl portale non accetta il "
                 "modulo numero {0}: compare un errore dopo l'invio degli allegati.\r\n",
                 i);
    }
    std::ofstream(dir_ + "/passwd") << "helpdesk:{PLAIN}segreta\n";
    std::ofstream(dir_ + "/dovecot.conf") << fmt::format(
        "base_dir = {0}/run\nstate_dir = {0}/state\nlog_path = {0}/dovecot.log\n"
        "protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n"
        "default_internal_user = {1}\ndefault_internal_group = {2}\ndefault_login_user = {1}\n"
        "mail_location = maildir:{0}/mail/%u\n"
        "passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%u {0}/passwd\n}}\n"
        "userdb {{\n driver = static\n args = uid={3} gid={4} home={0}/mail/%u\n}}\n"
        "service imap-login {{\n inet_listener imap {{\n address = 127.0.0.1\n port = {5}\n }}\n"
        " inet_listener imaps {{\n port = 0\n }}\n chroot =\n}}\n"
        "service anvil {{\n chroot =\n}}\nservice pop3-login {{\n chroot =\n}}\n"
        "service submission-login {{\n chroot =\n}}\nservice imap-urlauth-login {{\n chroot =\n}}\n",
        dir_, pw->pw_name, gr ? gr->gr_name : "nogroup", uid_, gid_, port_);
    if (root) {
      for (const auto& e : fs::recursive_directory_iterator(dir_)) ::chown(e.path().c_str(), uid_, gid_);
      ::chown(dir_.c_str(), uid_, gid_);
      for (fs::path p = fs::path(dir_).parent_path(); p != p.root_path(); p = p.parent_path()) {
        fs::permissions(p, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
      }
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      if (root && (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0)) _exit(126);
      const std::string conf = dir_ + "/dovecot.conf";
      ::execl("/usr/sbin/dovecot", "dovecot", "-F", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !Listening(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!Listening()) throw std::runtime_error("dovecot did not start; see " + dir_ + "/dovecot.log");
  }
  ~Dovecot() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  bool Listening() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }
  std::string dir_;
  int port_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = -1;
};

size_t Count(char*, size_t size, size_t n, void* user) {
  *static_cast<size_t*>(user) += size * n;
  return size * n;
}

}  // namespace

int RunMailCase(const Limits& limits, const std::string& source_dir) {
  const uint64_t messages = std::clamp<uint64_t>(limits.max_events / 1000, 50, 2000);
  ScratchDir dir("mail-in");
  Dovecot dovecot(dir.path() + "/dovecot", messages);
  const std::string url = fmt::format("imap://127.0.0.1:{}", dovecot.port());

  double baseline = 0;
  if (!limits.skip_baseline) {
    CURL* c = curl_easy_init();
    size_t bytes = 0;
    auto b0 = std::chrono::steady_clock::now();
    for (uint64_t uid = 1; uid <= messages; ++uid) {
      const std::string u = fmt::format("{}/INBOX/;UID={}", url, uid);
      curl_easy_reset(c);
      curl_easy_setopt(c, CURLOPT_URL, u.c_str());
      curl_easy_setopt(c, CURLOPT_USERNAME, "helpdesk");
      curl_easy_setopt(c, CURLOPT_PASSWORD, "segreta");
      curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Count);
      curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
      if (CURLcode rc = curl_easy_perform(c); rc != CURLE_OK) {
        throw std::runtime_error(std::string("baseline fetch: ") + curl_easy_strerror(rc));
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    curl_easy_cleanup(c);
    baseline = static_cast<double>(messages) / secs;
    fmt::print("mail-in baseline: {} messages ({} bytes) fetched by plain libcurl in {:.2f} s\n",
               messages, bytes, secs);
  }

  LogOptions lo;
  lo.path = dir.path() + "/log";
  auto log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto dom = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!dom.ok()) throw std::runtime_error(dom.status().ToString());
  CommandHandler commands(**log, (*dom)->workflows, (*dom)->events, nullptr);
  ManualClock clock(TimePoint(std::chrono::seconds(1'795'000'000)));
  projections::ManualWaiter waiter(clock);
  mail::ImapMailSource source({.url = url, .username = "helpdesk", .password = "segreta"});
  projections::MailboxOptions mo;
  mo.tenant = "comune-forli";
  mo.blob_dir = dir.path() + "/blobs";
  mo.checkpoint_file = dir.path() + "/checkpoint";
  projections::MailboxReactor reactor(commands, source, waiter, mo);
  auto t0 = std::chrono::steady_clock::now();
  if (Status s = reactor.PollOnce(); !s.ok()) throw std::runtime_error(s.ToString());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t opened = 0;
  for (const auto& [name, value] : reactor.Progress().counters) {
    if (name == "opened") opened = static_cast<uint64_t>(value);
  }
  fmt::print("mail-in: {} messages -> {} tickets opened (durable appends in groups, originals stored, "
             "flagged, checkpointed) in {:.2f} s\n",
             messages, opened, secs);
  PrintResult("mail-in", static_cast<double>(opened) / secs, baseline);
  return opened == messages ? 0 : 1;
}

}  // namespace procedo::bench
