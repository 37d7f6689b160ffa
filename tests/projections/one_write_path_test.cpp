// One write path: what the system causes itself is a command, decided and schema-checked like
// any other. No reactor (the SLA timer, the notifier's records, the citizen service) can get an
// event into the log that its schema refuses.
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "domain/citizen_access.h"
#include "domain/sample_payloads.h"
#include "projections/sla_fixture.h"
#include "support/temp_dir.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

// The shipped schemas, with `type` requiring one more field that nobody sends.
std::string TightenedSchemas(TempDir& tmp, const std::vector<std::string>& types) {
  namespace fs = std::filesystem;
  const std::string dir = tmp.sub("schemas");
  fs::copy(SourceDir() + "/schemas", dir, fs::copy_options::recursive);
  for (const auto& type : types) {
    const std::string path = dir + "/events/" + type + ".json";
    json schema = json::parse(std::ifstream(path));
    schema["required"].push_back("countersigned_by");
    schema["properties"]["countersigned_by"] = {{"type", "string"}};
    std::ofstream(path) << schema.dump(2);
  }
  return dir;
}

}  // namespace

TEST_CASE(
    "the SLA timer cannot record a breach its schema refuses: refused, nothing appended, "
    "the failure reported") {
  TempDir tmp;
  SlaFixture f("2026-11-26T10:00:00+01:00", TightenedSchemas(tmp, {"sla.warning", "sla.breached"}));
  const std::string s = "ticket-comune-aosta-1";
  f.Must(A("cit1", "citizen"), s, "open_ticket",
         {{"channel", "portal"}, {"priority", "high"}, {"subject", "Allegati"}});
  const uint64_t before = f.wf.logf.log->LastPosition();
  f.waiter.Set(T("2026-11-26T11:00:00+01:00"));  // past the warning and the 30-minute deadline
  REQUIRE(f.timer->WaitSettled(std::chrono::seconds(20)));
  CHECK(f.Sla(s).empty());
  CHECK(f.wf.logf.log->LastPosition() == before);
  Status failure = f.timer->failure();
  REQUIRE_FALSE(failure.ok());
  CHECK_THAT(failure.message(), Catch::Contains("countersigned_by"));
  CHECK(f.timer->appended() == 0);
}

TEST_CASE(
    "every command only the system may run refuses data its event's schema refuses, "
    "synchronously and asynchronously") {
  WorkflowFixture f;
  const Actor system = Actor::System("test-reactor", "comune-aosta");
  int checked = 0;
  for (const auto& [wid, def] : f.domain->workflows.all()) {
    for (const auto& [name, spec] : def->commands) {
      if (spec.roles != std::vector<std::string>{Actor::kSystemRole}) continue;
      // A stream of the workflow's kind that exists when the command needs one.
      std::string stream = def->stream_kind + "-comune-aosta-w" + std::to_string(checked + 1);
      if (!spec.initial) {
        const CommandSpec* start = nullptr;
        for (const auto& [n, c] : def->commands) {
          if (c.initial && c.roles != std::vector<std::string>{Actor::kSystemRole}) start = &c;
        }
        if (start != nullptr) {
          f.Must(A("op1", start->roles.front()), stream, start->name,
                 SamplePayloadFor(start->name, start->roles.front()));
        } else {
          // Only the system starts a citizen's stream: with the credentials of a case.
          REQUIRE(wid == "citizen");
          auto issue = domain::IssueCredentialsCommand(
              std::string(32, 's'), domain::PasswordHashCost::Minimal(), "case-comune-aosta-1",
              "W-" + std::to_string(checked), "comune-aosta", 1, "", f.logf.clock.Now());
          REQUIRE(issue.ok());
          stream = issue->stream;
          auto r = f.handler->Handle(*issue, system);
          REQUIRE((r.ok() && r->accepted()));
        }
      }
      ++checked;
      const uint64_t head = f.logf.log->LastPosition();
      Command bad;
      bad.stream = stream;
      bad.name = name;
      bad.payload = {{"not_in_any_schema", true}};
      INFO(wid << "." << name);
      auto sync = f.handler->Handle(bad, system);
      REQUIRE(sync.ok());
      REQUIRE_FALSE(sync->accepted());
      std::promise<Result<CommandOutcome>> done;
      f.handler->HandleAsync(bad, system,
                             [&done](Result<CommandOutcome> r) { done.set_value(std::move(r)); });
      auto async = done.get_future().get();
      REQUIRE(async.ok());
      REQUIRE_FALSE(async->accepted());
      CHECK(f.logf.log->LastPosition() == head);
    }
  }
  // The SLA records of three workflows (cases, tickets, applications), the citizen's three, the
  // survey's, the notifier's three, the mailbox's refusal, a service account's opening (which
  // only an admission writes), what the payments reactor records on a debt position (published,
  // failed, a withdrawal or a read failed, receipt, expired, withdrawn) and on an enrolment (its
  // application fee), and a receipt for no position.
  CHECK(checked == 23);
}

}  // namespace procedo::testing
