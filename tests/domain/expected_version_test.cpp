// A command carrying the version its caller decided on (HTTP If-Match) conflicts when the
// stream moved on, unless its idempotency key shows the same command already succeeded.
#include "domain/workflow_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {
Command Cmd(std::string name, nlohmann::json payload, std::optional<uint64_t> expected,
            std::string key = "") {
  Command c;
  c.stream = "case-comune-aosta-9";
  c.name = std::move(name);
  c.payload = std::move(payload);
  c.expected_version = expected;
  c.idempotency_key = std::move(key);
  return c;
}
}  // namespace

TEST_CASE("expected versions: match, stale, and a retry of a command that succeeded",
          "[expected]") {
  WorkflowFixture f;
  Actor op = A("op1", "operator");
  nlohmann::json start = {{"procedure_id", "access_to_records"},
                          {"case_code", "AO-9"},
                          {"applicant", {{"name", "Giulia Ferri"}}},
                          {"consent", {{"sms", false}, {"email", false}}}};
  auto s = f.handler->Handle(Cmd("start_case", start, 0), op);
  REQUIRE(s.ok());
  REQUIRE(s->accepted());
  auto note = f.handler->Handle(Cmd("add_note", {{"text", "uno"}}, 1, "note-1"), op);
  REQUIRE(note.ok());
  REQUIRE(note->accepted());
  CHECK(note->append.stream_version == 2);

  auto stale = f.handler->Handle(Cmd("add_note", {{"text", "due"}}, 1), op);
  REQUIRE(stale.status().IsConflict());
  CHECK(stale.status().actual_version() == 2u);
  CHECK_THAT(stale.status().message(), Catch::Contains("is at version 2, not 1"));

  // The client never saw the answer to note-1 and retries it with its stale version.
  auto retry = f.handler->Handle(Cmd("add_note", {{"text", "uno"}}, 1, "note-1"), op);
  REQUIRE(retry.ok());
  REQUIRE(retry->accepted());
  CHECK(retry->append.first_position == note->append.first_position);
  // The start and the case's number, then the note: nothing more.
  CHECK(f.logf.log->LastPosition() == 3);

  auto missing = f.handler->Handle(Cmd("add_note", {{"text", "x"}}, 5), op);
  CHECK(missing.status().IsConflict());
}

TEST_CASE("events appended outside the handler do not cost the caller a conflict", "[expected]") {
  // The SLA timer and the notifier append to workflow streams directly; the handler's cached
  // state is then behind the log.
  WorkflowFixture f;
  Actor op = A("op1", "operator");
  nlohmann::json start = {{"procedure_id", "access_to_records"},
                          {"case_code", "AO-10"},
                          {"applicant", {{"name", "Giulia Ferri"}}},
                          {"consent", {{"sms", false}, {"email", false}}}};
  Command s = Cmd("start_case", start, std::nullopt);
  s.stream = "case-comune-aosta-10";
  REQUIRE(f.handler->Handle(s, op).ok());
  auto outside =
      f.logf.log->Append(AppendRequest{"case-comune-aosta-10",
                                       ExpectedVersion::Exact(1),
                                       {NewEvent{"case.note_added",
                                                 R"({"note":"da fuori","author":"sistema"})",
                                                 "comune-aosta",
                                                 "{}",
                                                 "",
                                                 "",
                                                 {}}},
                                       ""});
  REQUIRE(outside.ok());

  SECTION("no version pinned: decided on the log's current state") {
    Command n = Cmd("add_note", {{"text", "dentro"}}, std::nullopt);
    n.stream = "case-comune-aosta-10";
    auto r = f.handler->Handle(n, op);
    REQUIRE(r.ok());
    REQUIRE(r->accepted());
    CHECK(r->append.stream_version == 3);
  }
  SECTION("the version the caller read from the log is honoured") {
    Command n = Cmd("add_note", {{"text", "dentro"}}, 2);
    n.stream = "case-comune-aosta-10";
    auto r = f.handler->Handle(n, op);
    REQUIRE(r.ok());
    CHECK(r->append.stream_version == 3);
  }
  SECTION("a stale pinned version is still a conflict") {
    Command n = Cmd("add_note", {{"text", "dentro"}}, 1);
    n.stream = "case-comune-aosta-10";
    CHECK(f.handler->Handle(n, op).status().IsConflict());
  }
}
