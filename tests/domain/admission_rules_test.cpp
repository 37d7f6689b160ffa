// What an admission and an application may name: no place free is a refusal of its own (a
// sub-code callers branch on), the system's move up the waiting list names the release it
// answers and nobody else may, an application's household member must exist, and whether a
// service moves its list up by itself is the catalogue's data, checked at load.
#include "domain/accounts.h"
#include "domain/enrolment_steps.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const Actor kOp = A("op1", "operator");

json ReleasedBy(const std::string& enrolment) {
  return {{"stream", domain::PlacesReleasedStream("comune-aosta", "nursery", "nido_la_trottola")},
          {"version", 1},
          {"enrolment", enrolment}};
}

}  // namespace

TEST_CASE("no place free: refused with its sub-code, nothing appended", "[accounts]") {
  TempDir tmp;
  WorkflowFixture f(NurseryWith(tmp, 1));
  SubmitAndRank(f, "enrolment-comune-aosta-1", {});
  SubmitAndRank(f, "enrolment-comune-aosta-2", {.citizen = "cit2"});
  f.Must(kOp, "enrolment-comune-aosta-1", "admit_to_service", {{"service", "nursery"}});

  const uint64_t head = f.logf.log->LastPosition();
  auto full = f.Run(kOp, "enrolment-comune-aosta-2", "admit_to_service", {{"service", "nursery"}});
  REQUIRE_FALSE(full.ok());
  CHECK(full.status().IsInvalidArgument());
  CHECK(full.status().Is(Status::SubCode::kNoCapacity));
  CHECK(std::string(SubCodeName(full.status().subcode())) == "no-capacity");
  CHECK(f.logf.log->LastPosition() == head);
  // Other refusals of an admission keep their own kind.
  f.Must(kOp, "enrolment-comune-aosta-2", "place_on_waiting_list", {{"service", "nursery"}});
  auto again = f.Run(kOp, "enrolment-comune-aosta-1", "admit_to_service", {{"service", "nursery"}});
  REQUIRE(again.ok());
  CHECK(again->rejection->guard == "service_outcome_allowed");
}

TEST_CASE("only the system names a release, and only for a waiting application", "[accounts]") {
  TempDir tmp;
  WorkflowFixture f(NurseryWith(tmp, 2));
  SubmitAndRank(f, "enrolment-comune-aosta-1", {});
  const Actor system = Actor::System("waiting-list", "comune-aosta");
  json moved = {{"service", "nursery"}, {"released_by", ReleasedBy("enrolment-comune-aosta-9")}};

  auto by_operator = f.Run(kOp, "enrolment-comune-aosta-1", "admit_to_service", moved);
  REQUIRE(by_operator.ok());
  CHECK(by_operator->rejection->guard == "moved_up_by_system");
  // Ranked but not waiting: the system does not admit it.
  auto ranked = f.Run(system, "enrolment-comune-aosta-1", "admit_to_service", moved);
  REQUIRE(ranked.ok());
  CHECK(ranked->rejection->guard == "moved_up_by_system");
  auto bare =
      f.Run(system, "enrolment-comune-aosta-1", "admit_to_service", {{"service", "nursery"}});
  REQUIRE(bare.ok());
  CHECK(bare->rejection->guard == "moved_up_by_system");

  f.Must(kOp, "enrolment-comune-aosta-1", "place_on_waiting_list", {{"service", "nursery"}});
  auto admitted = f.Must(system, "enrolment-comune-aosta-1", "admit_to_service", moved);
  json data = json::parse(admitted.append.events.at(0)->data);
  CHECK(data["moved_up_from_waiting_list"] == true);
  CHECK(data["released_by"] == moved["released_by"]);
  CHECK(data["admitted_by"] == "waiting-list");
  CHECK(admitted.append.events.at(0)->actor == R"({"system":"waiting-list"})");
  // An operator's admission says nothing of a release.
  SubmitAndRank(f, "enrolment-comune-aosta-2", {.citizen = "cit2"});
  auto manual =
      f.Must(kOp, "enrolment-comune-aosta-2", "admit_to_service", {{"service", "nursery"}});
  CHECK_FALSE(json::parse(manual.append.events.at(0)->data).contains("moved_up_from_waiting_list"));
}

TEST_CASE("an application naming a household member that does not exist is refused", "[accounts]") {
  WorkflowFixture f;
  const Actor cit = A("cit1", "citizen");
  const std::string h = "household-comune-aosta-1";
  f.Must(cit, h, "register_household", SamplePayload("register_household"));
  f.Must(cit, h, "declare_dependant", SamplePayload("declare_dependant"));  // m2

  auto start = [&](const std::string& household, const std::string& member) {
    json p = SamplePayload("start_enrolment");
    p["services"] = {"canteen"};
    p["household"] = {{"stream", household}, {"member", member}};
    return p;
  };
  const std::string s = "enrolment-comune-aosta-1";
  const uint64_t head = f.logf.log->LastPosition();
  auto missing = f.Run(cit, s, "start_enrolment", start(h, "m3"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().IsInvalidArgument());
  CHECK(missing.status().Is(Status::SubCode::kReferenceMissing));
  CHECK_THAT(missing.status().message(), Catch::Contains("has no member 'm3'"));
  CHECK_THAT(missing.status().message(), Catch::Contains("m1, m2"));
  CHECK_THAT(missing.status().message(), Catch::Contains("declare_dependant"));

  auto unknown = f.Run(cit, s, "start_enrolment", start("household-comune-aosta-7", "m1"));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().Is(Status::SubCode::kReferenceMissing));
  CHECK_THAT(unknown.status().message(), Catch::Contains("register_household"));

  // Another Comune's household is answered as one that does not exist.
  const Actor forli = A("cit9", "citizen", "comune-forli");
  f.Must(forli, "household-comune-forli-1", "register_household",
         SamplePayload("register_household"));
  auto foreign = f.Run(cit, s, "start_enrolment", start("household-comune-forli-1", "m1"));
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.status().Is(Status::SubCode::kReferenceMissing));

  // Nothing of the refused applications was appended; the named member is accepted.
  CHECK(f.logf.log->LastPosition() == head + 2);  // the other Comune's registration
  CHECK_FALSE(f.State(s).exists());
  f.Must(cit, s, "start_enrolment", start(h, "m2"));
  CHECK(f.State(s).fields["household"]["member"] == "m2");
}

TEST_CASE("a citizen names only a household they registered; staff name any of their Comune",
          "[accounts]") {
  WorkflowFixture f;
  const Actor cit1 = A("cit1", "citizen"), cit2 = A("cit2", "citizen");
  const std::string h = "household-comune-aosta-1";
  f.Must(cit1, h, "register_household", SamplePayload("register_household"));
  f.Must(cit1, h, "declare_dependant", SamplePayload("declare_dependant"));  // m2
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  start["household"] = {{"stream", h}, {"member", "m2"}};

  const uint64_t head = f.logf.log->LastPosition();
  auto other = f.Run(cit2, "enrolment-comune-aosta-1", "start_enrolment", start);
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().Is(Status::SubCode::kReferenceMissing));
  // Word for word the answer for a household nobody registered: it does not say one is there.
  json nowhere = start;
  const std::string unregistered = "household-comune-aosta-2";
  nowhere["household"]["stream"] = unregistered;
  auto absent = f.Run(cit2, "enrolment-comune-aosta-1", "start_enrolment", nowhere);
  REQUIRE_FALSE(absent.ok());
  std::string expected = absent.status().message();
  expected.replace(expected.find(unregistered), unregistered.size(), h);
  CHECK(other.status().message() == expected);
  CHECK(other.status().code() == absent.status().code());
  CHECK(f.logf.log->LastPosition() == head);
  CHECK_FALSE(f.State("enrolment-comune-aosta-1").exists());

  // The citizen who registered it, and an operator entering a paper application, may name it.
  f.Must(cit1, "enrolment-comune-aosta-1", "start_enrolment", start);
  json paper = start;
  paper["channel"] = "paper";
  f.Must(kOp, "enrolment-comune-aosta-2", "start_enrolment", paper);
  CHECK(f.State("enrolment-comune-aosta-2").fields["household"]["stream"] == h);
}

TEST_CASE("whether the waiting list moves up by itself is catalogue data, checked at load",
          "[accounts]") {
  TempDir tmp;
  WorkflowFixture manual(NurseryWith(tmp, 3, "manual"));
  const domain::Service* nursery =
      manual.domain->services->ForTenant("comune-aosta")->Find("nursery");
  REQUIRE(nursery != nullptr);
  CHECK_FALSE(nursery->ranking.automatic_waiting_list);
  CHECK(manual.domain->services->ForTenant("comune-aosta")
            ->Find("canteen")
            ->ranking.automatic_waiting_list);  // the default

  TempDir bad;
  auto loaded = domain::LoadDomain(NurseryWith(bad, 3, "sometimes"), SourceDir() + "/schemas");
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.status().message(), Catch::Contains("waiting_list"));
}

}  // namespace procedo::testing
