#include "projections/reactors/mailbox.h"

#include <fcntl.h>
#include <csignal>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "domain/access.h"
#include "domain/citizen.h"
#include "domain/numbers.h"
#include "engine/calendar/calendar.h"
#include "engine/workflow/decide.h"
#include "projections/reactors/mail_rules.h"

namespace procedo::projections {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kSubjectBytes = 300;  // the ticket schemas' limits
constexpr size_t kTextBytes = 20000;

std::string Field(const json& fields, const char* name) {
  auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : "";
}

Status WriteFile(const std::string& path, const std::string& bytes, bool sync) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Status::IoError(fmt::format("cannot write {}; check the data directory", tmp));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::IoError(fmt::format("writing {} failed; check the disk", tmp));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = !sync || ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (synced) fs::rename(tmp, path, ec);
  if (!synced || ec) return Status::IoError(fmt::format("storing {} failed; check the disk", path));
  return Status::Ok();
}

}  // namespace

MailboxReactor::MailboxReactor(CommandHandler& commands, MailSource& source, Waiter& waiter,
                               MailboxOptions options)
    : commands_(commands), source_(source), waiter_(waiter), options_(std::move(options)) {}

MailboxReactor::~MailboxReactor() { Stop(); }

Status MailboxReactor::Start() {
  if (options_.tenant.empty()) {
    return Status::InvalidArgument("mail.tenant is empty; name the tenant the mailbox belongs to");
  }
  std::error_code ec;
  fs::create_directories(options_.blob_dir, ec);
  if (ec) {
    return Status::IoError(fmt::format("cannot create {}: {}; check mail settings and the data "
                                       "directory",
                                       options_.blob_dir, ec.message()));
  }
  if (Status s = LoadCheckpoint(); !s.ok()) return s;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void MailboxReactor::Stop() {
  if (!running_.exchange(false)) return;
  waiter_.Wake();
  if (thread_.joinable()) thread_.join();
}

ConsumerProgress MailboxReactor::Progress() const {
  std::lock_guard lock(mu_);
  ConsumerProgress p;
  p.position = last_uid_;
  p.lag = pending_;
  p.health = health_;
  // A mailbox that cannot be read leaves the rest of the server working: mail waits there.
  p.essential = false;
  for (const auto& [name, value] : counters_) p.counters.emplace_back(name, value);
  return p;
}

void MailboxReactor::Run() {
  const Clock& clock = waiter_.clock();
  while (running_) {
    (void)PollOnce();  // its failure is in health_, and the next pass tries again
    const TimePoint next = clock.Now() + options_.poll_interval;
    bool idle = options_.idle;
    while (running_) {
      const uint64_t seen = waiter_.Epoch();
      if (clock.Now() >= next) break;
      if (idle) {
        // In short slices, so that Stop and the interval's end are seen while idling.
        auto fresh = source_.AwaitNew(std::chrono::milliseconds(500));
        if (fresh.ok() && *fresh) break;
        if (fresh.ok()) continue;
        idle = false;  // no IDLE this interval (unsupported, or the connection dropped)
      }
      // Other components wake the shared waiter too: only the interval's end polls again.
      waiter_.WaitUntil(next, seen);
    }
  }
}

Status MailboxReactor::LoadCheckpoint() {
  std::ifstream in(options_.checkpoint_file);
  uint64_t validity = 0, uid = 0;
  if (in && !(in >> validity >> uid)) {
    return Status::Corruption(fmt::format(
        "{} is not \"<uidvalidity> <uid>\"; delete it and every message not flagged yet is "
        "read again (the log answers the ones already filed)",
        options_.checkpoint_file));
  }
  std::lock_guard lock(mu_);
  uidvalidity_ = validity;
  last_uid_ = uid;
  return Status::Ok();
}

Status MailboxReactor::SaveCheckpoint() const {
  return WriteFile(options_.checkpoint_file, fmt::format("{} {}\n", uidvalidity_, last_uid_),
                   /*sync=*/true);
}

Result<std::string> MailboxReactor::StoreBlob(const std::string& bytes) {
  const std::string sha = domain::ToHex(domain::Sha256(bytes));
  const fs::path dir = fs::path(options_.blob_dir) / sha.substr(0, 2);
  const fs::path path = dir / sha;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    // The same content is stored once. A file a crash cut before its group was synced is not
    // that content: it is written again.
    std::ifstream in(path, std::ios::binary);
    std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (stored.size() == bytes.size() && domain::ToHex(domain::Sha256(stored)) == sha) return sha;
  }
  fs::create_directories(dir, ec);
  // Written whole under a temporary name, renamed, and synced with the rest of the group before
  // any command names it (SyncBlobs): a crash leaves no half blob under its hash.
  if (Status s = WriteFile(path.string(), bytes, /*sync=*/false); !s.ok()) return s;
  blobs_dirty_ = true;
  return sha;
}

Status MailboxReactor::SyncBlobs() {
  if (!blobs_dirty_) return Status::Ok();
  int fd = ::open(options_.blob_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  // syncfs: one journal commit for every file and directory the group wrote, where an fsync
  // each would cost one per file.
  const bool synced = fd >= 0 && ::syncfs(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) {
    return Status::IoError(fmt::format("syncing the mail originals in {} failed; check the disk",
                                       options_.blob_dir));
  }
  blobs_dirty_ = false;
  return Status::Ok();
}

Result<CommandOutcome> MailboxReactor::Send(const std::string& stream, const std::string& command,
                                            json payload, const std::string& key) {
  // The payload may name originals and attachments: they are durable before it is.
  if (Status s = SyncBlobs(); !s.ok()) return s;
  Command c;
  c.stream = stream;
  c.name = command;
  c.payload = std::move(payload);
  c.idempotency_key = key;
  return commands_.Handle(c, Actor::System("mailbox", options_.tenant));
}

std::string MailboxReactor::ThreadOf(const InboundMail& mail) {
  const LogStore& log = commands_.log();
  auto ours = [&](const std::string& stream) {
    if (!stream.starts_with("ticket-")) return false;
    auto state = commands_.Load(stream);
    return state.ok() && (*state)->exists() &&
           domain::MailboxMayFile(options_.tenant, domain::FactsOf(**state));
  };
  // An answer names the notifier's mail it answers; the notifier's record says which ticket
  // that mail was about. Headers are the sender's to write: the ticket must be this tenant's.
  for (const auto& id : mail.replied_to) {
    const std::string local = NotifierMessageId(id);
    if (local.empty()) continue;
    auto records = log.ReadStream("notification-" + local, 1, Direction::kForward, 1);
    if (!records.ok() || records->empty()) continue;
    const std::string stream = Field(json::parse(records->front().data, nullptr, false),
                                     "source_stream");
    if (ours(stream)) return stream;
  }
  // Else the number a person quotes, looked up in this tenant's series only.
  if (auto number = domain::FindNumber(mail.subject, domain::kTicketSeries)) {
    auto stream = domain::StreamOfNumber(log, options_.tenant, *number);
    if (stream.ok() && ours(*stream)) return *stream;
  }
  return "";
}

Result<MailboxReactor::Outcome> MailboxReactor::Refuse(const MailSummary& summary,
                                                       const InboundMail& head,
                                                       const std::string& key) {
  if (!AutomaticReason(head, options_.own_addresses).empty()) return Outcome::kIgnored;
  json refusal = {{"sender", {{"email", FitText(head.from, 254)}}},
                  {"subject", FitText(head.subject, 1000)},
                  {"message_id", FitText(head.message_id, 998)},
                  {"reason", "too_large"},
                  {"size_bytes", summary.size},
                  {"limit_bytes", options_.max_message_bytes}};
  auto out = Send("mailbox-" + options_.tenant, "record_refusal", std::move(refusal), key);
  if (!out.ok() && !out.status().Is(Status::SubCode::kIdempotencyKeyReused)) return out.status();
  return Outcome::kRefused;
}

Result<MailboxReactor::Outcome> MailboxReactor::Handle(const MailSummary& summary,
                                                       uint64_t uidvalidity,
                                                       std::vector<Command>* opens) {
  if (summary.size > options_.max_message_bytes) {
    auto head = source_.Fetch(summary.uid, /*headers_only=*/true);
    if (!head.ok()) return head.status();
    const std::string key = "mail-" + domain::ToHex(domain::Sha256(fmt::format(
                                          "{}|{}|{}|{}", options_.tenant, uidvalidity,
                                          summary.uid, head->message_id)))
                                          .substr(0, 40);
    return Refuse(summary, *head, key);
  }
  auto fetched = source_.Fetch(summary.uid, /*headers_only=*/false);
  if (!fetched.ok()) return fetched.status();
  const InboundMail& mail = *fetched;
  // Never answered, so never a ticket: an acknowledgement to an auto-reply starts a loop.
  if (!mail.parsed || !AutomaticReason(mail, options_.own_addresses).empty()) {
    return Outcome::kIgnored;
  }
  const std::string key =
      "mail-" + domain::ToHex(domain::Sha256(fmt::format("{}|{}|{}|{}", options_.tenant,
                                                         uidvalidity, summary.uid,
                                                         mail.message_id)))
                    .substr(0, 40);
  const std::string from = FitText(mail.from, 254);
  auto original = StoreBlob(mail.raw);
  if (!original.ok()) return original.status();
  json email = {{"message_id", FitText(mail.message_id, 998)},
                {"from", from},
                {"original", *original},
                {"attachments", json::array()}};
  for (const auto& a : mail.attachments) {
    if (email["attachments"].size() >= 100) break;
    auto sha = StoreBlob(a.content);
    if (!sha.ok()) return sha.status();
    email["attachments"].push_back({{"name", FitText(a.name, 255)},
                                    {"content_type", FitText(a.content_type, 255)},
                                    {"sha256", *sha},
                                    {"size", a.content.size()}});
  }
  std::string subject = FitText(mail.subject, kSubjectBytes);
  if (subject.find_first_not_of(" \t\n") == std::string::npos) subject = "(senza oggetto)";
  std::string text = FitText(mail.text, kTextBytes);
  if (text.find_first_not_of(" \t\n") == std::string::npos) text = subject;

  auto open = [&](const std::string& related) -> Result<Outcome> {
    json p = {{"channel", "email"}, {"priority", "normal"}, {"subject", subject},
              {"description", text}, {"contact", {{"email", from}}}, {"email", email}};
    if (!related.empty()) p["related_ticket"] = related;
    // Opened with the rest of the group (OpenTickets): nothing in the group can answer a ticket
    // that does not exist yet, as no mail of it has gone out.
    Command c;
    c.stream = domain::NewStreamId("ticket", options_.tenant, key);
    c.name = "open_ticket";
    c.payload = std::move(p);
    c.idempotency_key = key;
    opens->push_back(std::move(c));
    return Outcome::kOpened;
  };
  const std::string thread = ThreadOf(mail);
  if (thread.empty()) return open("");
  // A state that moved between reading it and deciding is read again; the key makes any retry
  // of what did land an answer from the log.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto loaded = commands_.Load(thread);
    if (!loaded.ok()) return loaded.status();
    const WorkflowState& state = **loaded;
    std::string command = "record_message";
    json payload = {{"text", text}, {"email", email}};
    Outcome outcome = Outcome::kFiled;
    if (state.status == "waiting_user") {
      command = "receive_information";
      payload = {{"answer", text}, {"email", email}};
      outcome = Outcome::kResumed;
    } else if (state.status == "resolved" || state.status == "closed") {
      std::string at = Field(state.fields, "closed_at");
      if (at.empty() || state.status == "resolved") at = Field(state.fields, "resolved_at");
      auto since = ParseRfc3339(at);
      const bool within =
          !since.ok() || waiter_.clock().Now() - *since <= Micros(options_.reopen_window);
      if (!within) return open(Field(state.fields, "number"));
      command = "reopen_ticket";
      outcome = Outcome::kReopened;
    } else if (state.status == "archived") {
      return open(Field(state.fields, "number"));
    }
    auto out = Send(thread, command, std::move(payload), key);
    if (!out.ok()) {
      // The key already filed this message, as another command: it is done.
      if (out.status().Is(Status::SubCode::kIdempotencyKeyReused)) return Outcome::kFiled;
      return out.status();
    }
    if (out->accepted()) return outcome;
    if (out->rejection->kind != Rejection::Kind::kNotAllowedInState) {
      return Status::Corruption(fmt::format(
          "the help-desk workflow refused a message of the mailbox ({}): {}; fix the workflow's "
          "{} command or the mailbox reactor",
          mail.message_id, out->rejection->message, command));
    }
  }
  return Status::Conflict(fmt::format("ticket {} kept changing while a message was filed on "
                                      "it; the next pass tries again",
                                      thread),
                          std::nullopt);
}

}  // namespace procedo::projections
