// CommandHandler::HandleBatchAsync: many commands of one stream decided in one go must answer
// what the same commands sent one after another answer: each decided on what the ones before it
// left, a refusal leaving nothing, a repeated movement deciding nothing, each accepted command its
// own append with its own key, and the state then the one a replay of the log gives.
#include <fmt/format.h>

#include <future>

#include "domain/accounts.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

const Actor kOp = A("op1", "operator");

// An online application admitted to the canteen, with credit: its account.
std::string AccountWithCredit(WorkflowFixture& f, int64_t cents) {
  const std::string s = "enrolment-comune-aosta-1";
  const Actor cit = A("cit1", "citizen");
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  start["site"] = "primaria_saint_roch";
  f.Must(cit, s, "start_enrolment", start);
  f.Must(cit, s, "complete_details", {{"details", {{"canteen", SampleAnswers("canteen")}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(kOp, s, "rank_for_service", {{"service", "canteen"}});
  f.Must(kOp, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = domain::AccountStream(s, "canteen");
  f.Must(kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", cents}});
  return account;
}

Command Meal(const std::string& account, const std::string& id,
             const std::string& site = "primaria_saint_roch",
             const std::string& date = "2026-09-22") {
  Command c;
  c.stream = account;
  c.name = "record_usage";
  c.payload = {{"movement_id", id}, {"date", date}, {"site", site}};
  c.idempotency_key = "meal:" + id + ":" + date;
  return c;
}

std::vector<Result<CommandOutcome>> Batch(WorkflowFixture& f, const std::vector<Command>& cs) {
  std::promise<std::vector<Result<CommandOutcome>>> answer;
  f.handler->HandleBatchAsync(
      cs, kOp, [&](std::vector<Result<CommandOutcome>> out) { answer.set_value(std::move(out)); });
  return answer.get_future().get();
}

WorkflowState Replayed(WorkflowFixture& f, const std::string& stream) {
  CommandHandler fresh(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  auto s = fresh.Load(stream);
  REQUIRE(s.ok());
  return *s.value();
}

int64_t Balance(const WorkflowState& s) {
  return s.derived.at("account_ledger").value("balance_cents", int64_t{0});
}

}  // namespace

TEST_CASE("a batch of one account's movements answers as the same movements one by one",
          "[accounts]") {
  WorkflowFixture f;
  const std::string account = AccountWithCredit(f, 2000);
  const uint64_t head = f.logf.log->LastPosition();
  const uint64_t version = f.State(account).version;
  const std::vector<Command> meals = {
      Meal(account, "M1"),
      Meal(account, "M2", "nowhere"),                            // not a site of the canteen
      Meal(account, "M1"),                                       // the same again: nothing
      Meal(account, "M1", "primaria_saint_roch", "2026-09-23"),  // its id, other content
      Meal(account, "M3"),
  };
  auto out = Batch(f, meals);
  REQUIRE(out.size() == meals.size());
  for (const auto& r : out) REQUIRE(r.ok());
  REQUIRE(out[0]->accepted());
  CHECK(out[0]->append.stream_version == version + 1);
  REQUIRE(out[0]->append.events.size() == 1);
  CHECK(out[0]->append.events[0]->causation_id == meals[0].idempotency_key);
  REQUIRE_FALSE(out[1]->accepted());
  CHECK(out[1]->rejection->message.find("not a site") != std::string::npos);
  REQUIRE(out[2]->accepted());
  CHECK(out[2]->append.events.empty());
  REQUIRE_FALSE(out[3]->accepted());
  CHECK(out[3]->rejection->message.find("already recorded") != std::string::npos);
  REQUIRE(out[4]->accepted());
  CHECK(out[4]->append.stream_version == version + 2);
  // Two appends of one event each, and the second charged on the first's balance.
  CHECK(f.logf.log->LastPosition() == head + 2);
  const json first = json::parse(out[0]->append.events[0]->data);
  const json second = json::parse(out[4]->append.events[0]->data);
  CHECK(second["balance_cents"] ==
        first["balance_cents"].get<int64_t>() - second["amount_cents"].get<int64_t>());
  // The handler's state is the log's.
  const WorkflowState replayed = Replayed(f, account);
  CHECK(f.State(account) == replayed);
  CHECK(Balance(replayed) == second["balance_cents"].get<int64_t>());

  // The same batch again: the repeated movements decide nothing, the bad ones are refused again.
  auto again = Batch(f, meals);
  REQUIRE(again.size() == meals.size());
  for (size_t i : {0, 2, 4}) {
    REQUIRE(again[i].ok());
    CHECK(again[i]->accepted());
    CHECK(again[i]->append.events.empty());
  }
  CHECK_FALSE(again[1]->accepted());
  CHECK_FALSE(again[3]->accepted());
  CHECK(f.logf.log->LastPosition() == head + 2);
}

TEST_CASE("a batch refuses a command of another stream or with an expected version, alone",
          "[accounts]") {
  WorkflowFixture f;
  const std::string account = AccountWithCredit(f, 2000);
  Command elsewhere = Meal("account-comune-aosta-9-canteen", "M2");
  Command pinned = Meal(account, "M3");
  pinned.expected_version = 1;
  auto out = Batch(f, {Meal(account, "M1"), elsewhere, pinned, Meal(account, "M4")});
  REQUIRE(out.size() == 4);
  REQUIRE(out[0].ok());
  CHECK(out[0]->append.events.size() == 1);
  REQUIRE_FALSE(out[1].ok());
  CHECK(out[1].status().IsInvalidArgument());
  REQUIRE_FALSE(out[2].ok());
  CHECK(out[2].status().IsInvalidArgument());
  REQUIRE(out[3].ok());
  CHECK(out[3]->append.events.size() == 1);
  CHECK(f.State(account) == Replayed(f, account));
}

}  // namespace procedo::testing
