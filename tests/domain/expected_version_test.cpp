// A command carrying the version its caller decided on (HTTP If-Match) conflicts when the
// stream moved on, unless its idempotency key shows the same command already succeeded.
#include "domain/workflow_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {
Command Cmd(std::string name, nlohmann::json payload, std::optional<uint64_t> expected, std::string key = "") {
  Command c;
  c.stream = "case-comune-aosta-9";
  c.name = std::move(name);
  c.payload = std::move(payload);
  c.expected_version = expected;
  c.idempotency_key = std::move(key);
  return c;
}
}  // namespace

TEST_CASE("expected versions: match, stale, and a retry of a command that succeeded", "[expected]") {
  WorkflowFixture f;
  Actor op = A("op1", "operator");
  nlohmann::json start = {{"procedure_id", "access_to_records"}, {"case_code", "AO-9"},
                          {"applicant", {{"name", "Giulia Ferri"}}}, {"consent", {{"sms", false}, {"email", false}}}};
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
  CHECK(f.logf.log->LastPosition() == 2);

  auto missing = f.handler->Handle(Cmd("add_note", {{"text", "x"}}, 5), op);
  CHECK(missing.status().IsConflict());
}
