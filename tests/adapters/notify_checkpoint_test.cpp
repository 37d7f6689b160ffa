// The notifier's checkpoint: a restart folds only what is new in the log, owes what the last run
// planned but never recorded (same message id, same password), and starts over when its state
// is ahead of the log.
#include <catch2/catch.hpp>
#include <set>

#include "notify_fixture.h"

using namespace procedo;
using namespace procedo::projections;
using namespace procedo::domain;
using procedo::testing::NotifyFixture;
using procedo::testing::RecordingSender;

namespace {

std::set<std::string> Ids(const std::vector<OutgoingMessage>& sent) {
  std::set<std::string> ids;
  for (const auto& m : sent) ids.insert(m.message_id);
  return ids;
}

}  // namespace

TEST_CASE("a restarted notifier folds only the events after its checkpoint", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  for (int n = 1; n <= 20; ++n) f.StartCase(n, true);
  f.Append("case-comune-forli-1", "case.suspended", {{"reason", "Manca la planimetria"}});
  uint64_t first_run_head = 0;
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
    f.Settle(n);
    CHECK(n.stats().resumed_from == 0);
    CHECK(sender.sent.size() == 21);
    first_run_head = f.log->LastPosition();
    // 21 events, the service's start, 20 credentials, 21 delivery records.
    CHECK(first_run_head == 63);
    CHECK(n.stats().applied == first_run_head);
  }
  f.ReopenState();
  f.Append("case-comune-forli-2", "case.suspended", {{"reason", "Parere della Soprintendenza"}});

  Notifier again(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(again.CatchUp().ok());
  // Re-reading from position 1 would fold 64 events here.
  CHECK(again.stats().resumed_from == first_run_head);
  CHECK(again.stats().applied == 1);
  CHECK(again.stats().pending == 0);
  REQUIRE(*again.Flush() == 1);
  again.Drain();
  REQUIRE(sender.sent.size() == 22);
  CHECK(sender.sent.back().body.find("Parere della Soprintendenza") != std::string::npos);
  CHECK(Ids(sender.sent).size() == 22);  // no message twice
  // The facts of case 2 (its applicant's name, the consent) came from the stored state.
  CHECK(sender.sent.back().recipient == "anna@example.it");
  CHECK(sender.sent.back().body.find("Gentile Anna") != std::string::npos);
  CHECK(f.Types("citizen-comune-forli-FC-2").size() == 1);  // credentials were not issued again
}

TEST_CASE(
    "what was planned but never recorded is sent after a restart with the same id and "
    "password, and the state store never holds the password",
    "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  f.StartCase(1, true);
  auto started = f.log->ReadAll(1, 1);
  REQUIRE(started.ok());
  std::string password = DerivePassword(f.Options().secret, "case-comune-forli-1", 1);
  {
    // Folds and commits, then stops before sending: what a crash between planning and sending,
    // or between sending and recording, leaves in the state store.
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
  }
  f.ReopenState();
  auto rows = f.state->Scan(kNotifierView, kPendingPrefix, "", 10);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->front().value.find(password) == std::string::npos);
  CHECK(sender.sent.empty());

  Notifier again(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(again.CatchUp().ok());
  CHECK(again.stats().applied == 0);  // nothing new in the log
  REQUIRE(*again.Flush() == 1);
  again.Drain();
  REQUIRE(sender.sent.size() == 1);
  const OutgoingMessage& m = sender.sent[0];
  CHECK(m.message_id == MessageId(UuidToString(started->front().id), "email", "anna@example.it"));
  CHECK(m.body.find("Password: " + password) != std::string::npos);
  CHECK(f.Types("citizen-comune-forli-FC-1") == std::vector<std::string>{"citizen.credentials_issued"});
  f.Settle(again);
  CHECK(f.Types("notification-" + m.message_id) == std::vector<std::string>{"notification.sent"});
  CHECK(f.state->Scan(kNotifierView, kPendingPrefix, "", 10)->empty());
}

TEST_CASE(
    "a ticket's message links to its page with the key, which the state store never "
    "holds",
    "[notify][ticket]") {
  NotifyFixture f;
  RecordingSender sender;
  const std::string stream = "ticket-comune-forli-3";
  f.Append(stream, "ticket.opened",
           {{"channel", "portal"},
            {"priority", "normal"},
            {"subject", "Accesso a CPortal"},
            {"contact", {{"email", "ugo@example.it"}}},
            {"level", 1}});
  f.Append(stream, "ticket.taken_in_charge",
           {{"technician", "t1"}, {"technician_name", "Paola Neri"}});
  const std::string key = DeriveTicketKey(f.Options().secret, "comune-forli", stream);
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
  }
  f.ReopenState();
  auto rows = f.state->Scan(kNotifierView, kPendingPrefix, "", 10);
  REQUIRE(rows.ok());
  // The acknowledgement of the opening and the taken-in-charge message.
  REQUIRE(rows->size() == 2);
  for (const auto& row : *rows) CHECK(row.value.find(key) == std::string::npos);

  Notifier again(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(again.CatchUp().ok());
  f.Settle(again);
  REQUIRE(sender.sent.size() == 2);
  for (const auto& m : sender.sent) {
    CHECK(m.body.find("https://pa.example.it/ticket?ente=comune-forli&id=" + stream +
                      "&chiave=" + key) != std::string::npos);
  }
  // Both rows were loaded at the restart, each due at once: each is sent, not only the last.
  std::set<std::string> subjects{sender.sent[0].subject, sender.sent[1].subject};
  CHECK(subjects == std::set<std::string>{"Ticket 3 ricevuto", "Ticket 3 preso in carico"});
}

TEST_CASE("a failure recorded before a restart keeps its backoff after it", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  sender.fail_next = 1;
  f.StartCase(1, true);
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
    f.Settle(n);  // attempt 1 fails; retry_at = now + 1 s is recorded and folded
    CHECK(n.stats().failed_attempts == 1);
  }
  f.ReopenState();
  Notifier again(*f.commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(again.CatchUp().ok());
  CHECK(*again.Flush() == 0);  // not due yet
  f.clock.Advance(std::chrono::seconds(1));
  CHECK(*again.Flush() == 1);
  again.Drain();
  REQUIRE(sender.sent.size() == 1);
  f.Settle(again);
  auto records =
      f.log->ReadStream("notification-" + sender.sent[0].message_id, 1, Direction::kForward, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK(nlohmann::json::parse(records->back().data)["attempt"] == 2);
}

TEST_CASE("a checkpoint ahead of the log is dropped and the fold starts over", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  for (int n = 1; n <= 3; ++n) f.StartCase(n, false);
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, f.Options());
    REQUIRE(n.CatchUp().ok());
    CHECK(n.stats().position == 4);  // 3 cases and the service's start
  }
  // The same state over a shorter log: a log restored from an older backup.
  LogOptions lo;
  lo.path = f.dir.sub("log2");
  lo.sync = false;
  auto shorter = LogStore::Open(lo);
  REQUIRE(shorter.ok());
  AppendRequest r{
      "case-comune-forli-9",
      ExpectedVersion::Any(),
      {NewEvent{
          "case.started",
          R"({"case_code":"FC-9","applicant":{"name":"Bruno","email":"b@example.it"},"consent":{"sms":false,"email":true}})",
          "comune-forli",
          R"({"id":"op1"})",
          "",
          "",
          {}}},
      ""};
  REQUIRE((*shorter)->Append(std::move(r)).ok());
  CommandHandler shorter_commands(**shorter, f.domain->workflows, f.domain->events, nullptr);
  Notifier n(shorter_commands, *f.state, f.templates, sender, f.Options());
  REQUIRE(n.CatchUp().ok());
  CHECK(n.stats().rebuilt);
  CHECK(n.stats().resumed_from == 0);
  CHECK(n.stats().applied == 2);  // the case and this log's own service start
  REQUIRE(*n.Flush() == 1);
  n.Drain();
  REQUIRE(sender.sent.size() == 1);
  CHECK(sender.sent[0].recipient == "b@example.it");
}

TEST_CASE(
    "switched on over an existing log without history, the notifier sends only for what "
    "comes after its first start, also after a restart",
    "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  f.StartCase(1, true);
  f.Append("case-comune-forli-1", "case.suspended", {{"reason", "Prima dell'attivazione"}});
  NotifierOptions o = f.Options();
  o.history = false;
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, o);
    REQUIRE(n.CatchUp().ok());
    CHECK(n.stats().notify_from == 3);
    CHECK(*n.Flush() == 0);
    CHECK(f.Types("citizen-comune-forli-FC-1").empty());  // no credentials for a start nobody is told of
    f.Append("case-comune-forli-1", "case.resumed", {{"reason", "Dopo l'attivazione"}});
    f.Settle(n);
    REQUIRE(sender.sent.size() == 1);
    CHECK(sender.sent[0].body.find("Dopo l'attivazione") != std::string::npos);
    CHECK(sender.sent[0].body.find("Gentile Anna") != std::string::npos);  // facts from before
  }
  // The start is in the log: neither a restart nor a lost state moves it, whatever `history`
  // says now.
  REQUIRE(f.state->Drop(kNotifierView).ok());
  o.history = true;
  Notifier again(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(again.CatchUp().ok());
  CHECK(again.stats().notify_from == 3);
  CHECK(*again.Flush() == 0);
  CHECK(f.Types(kNotifierServiceStream).size() == 1);
}
