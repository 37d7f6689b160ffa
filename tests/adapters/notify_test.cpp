// The notifier's pure parts (templates, message ids, backoff, passwords) and the reactor itself on
// a real log with an injected clock and a recording sender; tests/integration/notify_test.py runs
// the same against a real SMTP server.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "adapters/notify/senders.h"
#include "notify_fixture.h"
#include "domain/access.h"
#include "domain/citizen.h"

using namespace procedo;
using namespace procedo::projections;
using namespace procedo::domain;
using nlohmann::json;
using procedo::testing::NotifyFixture;
using procedo::testing::RecordingSender;

TEST_CASE("templates substitute, keep sections only when set, and refuse unknown names",
          "[notify]") {
  TemplateVars v = {{"case_code", "FC-1"}, {"reason", ""}, {"link", "https://x/p"}};
  CHECK(*RenderTemplate("Pratica {{case_code}}: {{link}}", v) == "Pratica FC-1: https://x/p");
  CHECK(*RenderTemplate("A{{#reason}} Motivo: {{reason}}{{/reason}}.", v) == "A.");
  v["reason"] = "manca un documento";
  CHECK(*RenderTemplate("A{{#reason}} Motivo: {{reason}}{{/reason}}.", v) ==
        "A Motivo: manca un documento.");
  auto bad = RenderTemplate("{{resaon}}", v);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("resaon") != std::string::npos);
  CHECK_FALSE(RenderTemplate("{{#reason}} never closed", v).ok());
  CHECK_FALSE(RenderTemplate("{{case_code", v).ok());
}

TEST_CASE("the shipped templates load and cover every notified event", "[notify]") {
  auto set = TemplateSet::LoadDir(std::string(PROCEDO_SOURCE_DIR) + "/domain/templates");
  REQUIRE(set.ok());
  for (const char* type : {"case.started", "case.suspended", "case.integration_requested",
                           "case.resumed", "case.closed", "citizen.credentials_issued",
                           "ticket.taken_in_charge", "ticket.escalated", "ticket.resolved",
                           "ticket.closed", "sla.breached"}) {
    INFO(type);
    const MessageTemplate* t = set->Find(type, "email");
    REQUIRE(t != nullptr);
    CHECK_FALSE(t->subject.empty());
  }
  CHECK(set->Find("case.started", "sms") != nullptr);
  CHECK(set->Find("case.note_added", "email") == nullptr);
  // The Region's outcome on an application: the applicant's texts and the Comune office's copy.
  for (const char* type : {"voucher.approved", "voucher.rejected", "voucher.returned"}) {
    INFO(type);
    CHECK(set->Find(type, "email") != nullptr);
    CHECK(set->Find(type, "sms") != nullptr);
    CHECK(set->Find(std::string(type) + ".office", "email") != nullptr);
  }
  CHECK(set->Find("voucher.forwarded", "email") == nullptr);
}

TEST_CASE("message ids are deterministic per event, channel and recipient", "[notify]") {
  std::string a = MessageId("0190-aa", "email", "a@example.it");
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a == MessageId("0190-aa", "email", "a@example.it"));
  CHECK(a != MessageId("0190-aa", "sms", "a@example.it"));
  CHECK(a != MessageId("0190-aa", "email", "b@example.it"));
  CHECK(a != MessageId("0190-ab", "email", "a@example.it"));
}

TEST_CASE("retries back off exponentially up to a cap; lockouts double up to a day", "[notify]") {
  using std::chrono::milliseconds;
  CHECK(RetryDelay(milliseconds(100), milliseconds(1000), 1) == milliseconds(100));
  CHECK(RetryDelay(milliseconds(100), milliseconds(1000), 2) == milliseconds(200));
  CHECK(RetryDelay(milliseconds(100), milliseconds(1000), 4) == milliseconds(800));
  CHECK(RetryDelay(milliseconds(100), milliseconds(1000), 5) == milliseconds(1000));
  CHECK(RetryDelay(milliseconds(100), milliseconds(1000), 60) == milliseconds(1000));
  CHECK(LockoutDuration(std::chrono::seconds(60), 1) == std::chrono::seconds(60));
  CHECK(LockoutDuration(std::chrono::seconds(60), 3) == std::chrono::seconds(240));
  CHECK(LockoutDuration(std::chrono::seconds(60), 100) == std::chrono::hours(24));
}

TEST_CASE("passwords derive per case and issue; only Argon2id hashes verify them", "[citizen]") {
  std::string secret(32, 'k');
  std::string p1 = DerivePassword(secret, "case-forli-1", 1);
  CHECK(p1.size() == 12);
  CHECK(p1 == DerivePassword(secret, "case-forli-1", 1));
  CHECK(p1 != DerivePassword(secret, "case-forli-1", 2));
  CHECK(p1 != DerivePassword(secret, "case-forli-2", 1));
  CHECK(p1 != DerivePassword(std::string(32, 'j'), "case-forli-1", 1));
  auto hash = HashPassword(p1, PasswordHashCost::Minimal());
  REQUIRE(hash.ok());
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(VerifyPassword(*hash, p1));
  CHECK_FALSE(VerifyPassword(*hash, DerivePassword(secret, "case-forli-1", 2)));
  CHECK(CitizenStreamFor("comune-forli", "FC 2026/1") == "citizen-comune-forli-FC@202026@2F1");
}

TEST_CASE(
    "a ticket's page key derives from the secret, tenant and stream; only it opens the "
    "page, and only for that tenant's ticket",
    "[citizen][ticket]") {
  const std::string secret(32, 'k');
  const std::string stream = "ticket-comune-forli-7";
  const std::string key = DeriveTicketKey(secret, "comune-forli", stream);
  CHECK(key.size() == 32);
  CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(key == DeriveTicketKey(secret, "comune-forli", stream));
  // Not guessable from the id: every other ticket, tenant or secret has another key.
  CHECK(key != DeriveTicketKey(secret, "comune-forli", "ticket-comune-forli-8"));
  CHECK(key != DeriveTicketKey(secret, "comune-aosta", stream));
  CHECK(key != DeriveTicketKey(std::string(32, 'j'), "comune-forli", stream));
  // Independent of the case passwords that derive from the same secret.
  CHECK(key.substr(0, 12) != DerivePassword(secret, stream, 1));

  CHECK(TicketKeyValid(secret, {"comune-forli", stream, key}));
  std::string tampered = key;
  tampered[5] = tampered[5] == 'a' ? 'b' : 'a';
  CHECK_FALSE(TicketKeyValid(secret, {"comune-forli", stream, tampered}));
  CHECK_FALSE(TicketKeyValid(secret, {"comune-forli", stream, key.substr(0, 31)}));
  CHECK_FALSE(TicketKeyValid(secret, {"comune-forli", stream, key + "0"}));
  CHECK_FALSE(TicketKeyValid(secret, {"comune-forli", stream, ""}));
  CHECK_FALSE(TicketKeyValid(secret, {"comune-aosta", stream, key}));
  CHECK_FALSE(TicketKeyValid(secret, {"comune-forli", "ticket-comune-forli-8", key}));

  // A valid link opens a ticket of its own tenant only.
  const domain::StreamFacts forli{"comune-forli", "", ""};
  CHECK(RequesterMayRead({"comune-forli", stream, key}, forli));
  CHECK_FALSE(
      RequesterMayRead({"comune-forli", stream, key}, domain::StreamFacts{"comune-aosta", "", ""}));
  CHECK_FALSE(RequesterMayRead({"comune-forli", "case-comune-forli-7", key}, forli));
  CHECK_FALSE(RequesterMayRead({"comune-forli", stream, key}, domain::StreamFacts{}));

  CHECK(StreamNumber(stream, "comune-forli") == "7");
  CHECK(StreamNumber("ticket-comune-forli-2026-12", "comune-forli") == "2026-12");
  CHECK(StreamNumber("ticket-7", "comune-forli") == "7");
}

TEST_CASE("e-mails carry the message id and an encoded subject", "[notify]") {
  OutgoingMessage m;
  m.message_id = "0123456789abcdef0123456789abcdef";
  m.recipient = "a@example.it";
  m.subject = "Sospensione della pratica\r\nBcc: x@evil";
  m.body = "è sospesa";
  std::string text = notify::FormatEmail(m, "Procedo <noreply@pa.example.it>",
                                         std::chrono::system_clock::now());
  CHECK(text.find("Message-ID: <0123456789abcdef0123456789abcdef@pa.example.it>\r\n") !=
        std::string::npos);
  CHECK(text.find("\r\nBcc:") == std::string::npos);
  CHECK(text.find("Subject: =?UTF-8?B?") != std::string::npos);
  CHECK(notify::SignBody("k", "{}").rfind("sha256=", 0) == 0);
}


TEST_CASE("the notifier issues credentials, sends once, retries on the clock, and resumes after a restart",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  f.StartCase(1, true);
  f.StartCase(2, false);
  f.Append("case-comune-forli-1", "case.suspended", {{"reason", "Manca la planimetria"}});
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
    sender.fail_next = 1;
    REQUIRE(*n.Flush() == 2);  // start fails, suspension goes
    n.Drain();
    REQUIRE(sender.sent.size() == 1);
    CHECK(sender.sent[0].subject.find("Sospensione") != std::string::npos);
    CHECK(sender.sent[0].body.find("Manca la planimetria") != std::string::npos);
    CHECK(f.Types("citizen-comune-forli-FC-1") == std::vector<std::string>{"citizen.credentials_issued"});
    CHECK(f.Types("citizen-comune-forli-FC-2").empty());  // no consent: no credentials, no messages
    CHECK(*n.Pump() == 0);                   // the retry is not due yet
    f.clock.Advance(std::chrono::milliseconds(999));
    CHECK(*n.Pump() == 0);
    f.clock.Advance(std::chrono::milliseconds(1));
    CHECK(*n.Pump() == 1);
    n.Drain();
  }
  REQUIRE(sender.sent.size() == 2);
  const OutgoingMessage& start = sender.sent[1];
  CHECK(start.body.find(DerivePassword(std::string(32, 's'), "case-comune-forli-1", 1)) != std::string::npos);
  CHECK(start.body.find("https://pa.example.it/pratica?ente=comune-forli&codice=FC-1") != std::string::npos);
  CHECK(f.Types("notification-" + start.message_id) ==
        std::vector<std::string>{"notification.failed", "notification.sent"});

  // A second notifier over the same log owes nothing and issues nothing again.
  Notifier again(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(again.CatchUp().ok());
  CHECK(*again.Flush() == 0);
  CHECK(f.Types("citizen-comune-forli-FC-1").size() == 1);
  f.Append("case-comune-forli-1", "citizen.opted_out", {{"case_stream", "case-comune-forli-1"}});
  f.Append("case-comune-forli-1", "case.resumed", {{"reason", "ok"}});
  CHECK(*again.Pump(std::chrono::milliseconds(1000)) == 0);  // opted out: nothing goes
}

TEST_CASE("a delivery that keeps failing gives up after max_attempts with a final record", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  sender.fail_next = 100;
  f.StartCase(1, true);
  Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(n.CatchUp().ok());
  for (int i = 0; i < 5; ++i) {
    REQUIRE(n.Flush().ok());
    f.clock.Advance(std::chrono::seconds(10));
  }
  n.Drain();
  CHECK(n.stats().failed_attempts == 3);
  CHECK(n.stats().gave_up == 1);
  auto read = f.log->ReadAll(1, 100);
  REQUIRE(read.ok());
  const std::vector<Event>& events = read.value();
  auto last = json::parse(events.back().data);
  CHECK(events.back().type == "notification.failed");
  CHECK(last["final"] == true);
  CHECK(last["attempt"] == 3);
}

TEST_CASE("a channel the server has no sender for is never owed, nor are credentials only it "
          "could carry",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  f.StartCase(1, true);  // e-mail consent only
  f.Append("case-comune-forli-2", "case.started",
           {{"case_code", "FC-2"},
            {"applicant", {{"name", "Bea"}, {"email", "bea@example.it"}, {"mobile", "+39 333 1"}}},
            {"consent", {{"sms", true}, {"email", true}}}});
  NotifierOptions o = f.Options();
  o.email = false;  // SMS only: notify.smtp_host is empty
  Notifier n(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  REQUIRE(sender.sent.size() == 1);
  CHECK(sender.sent[0].channel == "sms");
  CHECK(sender.sent[0].recipient == "+39 333 1");
  CHECK(f.Types("citizen-comune-forli-FC-1").empty());
  CHECK(f.Types("citizen-comune-forli-FC-2") == std::vector<std::string>{"citizen.credentials_issued"});
  CHECK(n.stats().pending == 0);
}

TEST_CASE("failed deliveries wait base, then twice as long, and stop at max_attempts", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  sender.fail_next = 100;
  f.StartCase(1, true);
  Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());  // base 1 s, 3 tries
  REQUIRE(n.CatchUp().ok());
  using std::chrono::milliseconds;
  CHECK(*n.Flush() == 1);  // attempt 1 fails: next in 1 s
  f.clock.Advance(milliseconds(999));
  CHECK(*n.Flush() == 0);
  f.clock.Advance(milliseconds(1));
  CHECK(*n.Flush() == 1);  // attempt 2 fails: next in 2 s
  f.clock.Advance(milliseconds(1999));
  CHECK(*n.Flush() == 0);
  f.clock.Advance(milliseconds(1));
  CHECK(*n.Flush() == 1);  // attempt 3 fails: the last
  f.clock.Advance(std::chrono::hours(24));
  CHECK(*n.Flush() == 0);
  n.Drain();
  std::vector<std::string> retry_at, final;
  auto events = f.log->ReadAll(1, 100);
  REQUIRE(events.ok());
  for (const auto& e : *events) {
    if (e.type != "notification.failed") continue;
    auto d = json::parse(e.data);
    retry_at.push_back(d.value("retry_at", ""));
    final.push_back(d.value("final", false) ? "final" : "");
  }
  CHECK(retry_at == std::vector<std::string>{FormatTime(TimePoint(std::chrono::seconds(1'780'000'001))),
                                             FormatTime(TimePoint(std::chrono::seconds(1'780'000'003))),
                                             ""});
  CHECK(final == std::vector<std::string>{"", "", "final"});
}

TEST_CASE("a mobile number without SMS consent gets no SMS; e-mail consent alone gets e-mail",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  f.Append("case-comune-forli-3", "case.started",
           {{"case_code", "FC-3"},
            {"applicant", {{"name", "Carla"}, {"email", "carla@example.it"}, {"mobile", "+39 333 9"}}},
            {"consent", {{"sms", false}, {"email", true}}}});
  f.Append("case-comune-forli-3", "case.suspended", {{"reason", "Parere"}});
  Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  REQUIRE(sender.sent.size() == 2);
  for (const auto& m : sender.sent) {
    CHECK(m.channel == "email");
    CHECK(m.recipient == "carla@example.it");
  }
}
