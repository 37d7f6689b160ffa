// The waiting list moving up by itself: a withdrawal's freed place goes to the first waiting
// application in the ranking's order, once, whatever restarts; a manual list and a place taken
// in the meantime admit nobody. The reactor runs on the test's thread (Pump), the projection
// runner on its own; nothing sleeps.
#include "projections/reactors/waiting_list.h"

#include "domain/accounts.h"
#include "domain/enrolment_steps.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "projections/views/projections.h"
#include "projections/views/rankings.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::WaitingListReactor;

const Actor kOp = A("op1", "operator");
const char* kNursery = "nursery";

struct WaitingListFixture {
  WorkflowFixture wf;
  std::unique_ptr<domain::CalendarCatalog> calendars;
  std::unique_ptr<projections::ProjectionSet> set;
  std::unique_ptr<ViewStore> views;
  std::unique_ptr<ProjectionRunner> runner;
  std::unique_ptr<WaitingListReactor> reactor;

  explicit WaitingListFixture(const std::string& domain_dir) : wf(domain_dir) {
    auto c = domain::CalendarCatalog::LoadDomain(wf.domain_dir);
    REQUIRE(c.ok());
    calendars = std::make_unique<domain::CalendarCatalog>(std::move(c).value());
    set = std::make_unique<projections::ProjectionSet>(wf.domain->workflows, *calendars);
    Open();
  }
  ~WaitingListFixture() { Close(); }

  void Open() {
    std::vector<std::string> names = set->Names();
    names.push_back(projections::kWaitingListView);
    auto v = ViewStore::Open(wf.logf.dir.sub("views"), names);
    REQUIRE(v.ok());
    views = std::move(v).value();
    runner = std::make_unique<ProjectionRunner>(*wf.logf.log, *views, set->All());
    REQUIRE(runner->Start().ok());
    reactor =
        std::make_unique<WaitingListReactor>(*wf.handler, *views, *runner, wf.domain->services);
  }
  void Close() {
    reactor.reset();
    if (runner) runner->Stop();
    runner.reset();
    views.reset();
  }
  // A restart: every object in memory goes, the stores are reopened.
  void Restart() {
    Close();
    wf.Restart();
    Open();
  }
  // Handles everything the log holds, the reactor's own admissions included.
  void Settle() {
    while (reactor->checkpoint() < wf.logf.log->LastPosition()) {
      auto r = reactor->Pump(std::chrono::seconds(5));
      INFO(r.status().ToString());
      REQUIRE(r.ok());
    }
    REQUIRE(runner->WaitFor(wf.logf.log->LastPosition(), std::chrono::seconds(20)));
  }

  std::string Enrol(int n, int64_t isee, const std::string& outcome) {
    const std::string s = "enrolment-comune-aosta-" + std::to_string(n);
    SubmitAndRank(wf, s, {.isee = isee, .citizen = "cit" + std::to_string(n)});
    if (outcome == "admitted") wf.Must(kOp, s, "admit_to_service", {{"service", kNursery}});
    if (outcome == "waiting") wf.Must(kOp, s, "place_on_waiting_list", {{"service", kNursery}});
    return s;
  }
  void Withdraw(const std::string& s) {
    wf.Must(kOp, s, "withdraw_from_service", {{"service", kNursery}});
  }
  std::string Outcome(const std::string& s) {
    return wf.State(s).derived["enrolment_outcomes"][kNursery].value("outcome", "");
  }
  std::vector<Event> Admissions(const std::string& s) {
    auto events = wf.logf.log->ReadStream(s, 1, Direction::kForward, 1000);
    REQUIRE(events.ok());
    std::vector<Event> out;
    for (auto& e : *events) {
      if (e.type == "enrolment.admitted") out.push_back(e);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("a withdrawal admits the first waiting application of the ranking, not the next",
          "[waiting_list]") {
  TempDir tmp;
  WaitingListFixture f(NurseryWith(tmp, 1));
  const std::string admitted = f.Enrol(1, 900'000, "admitted");
  // Presented first, but in a higher ISEE band: the ranking puts it after the next one.
  const std::string later = f.Enrol(2, 2'000'000, "waiting");
  const std::string first = f.Enrol(3, 500'000, "waiting");
  f.Settle();
  CHECK(f.reactor->admitted() == 0);

  f.Withdraw(admitted);
  const auto release = f.wf.logf.log->ReadStream(
      domain::PlacesReleasedStream("comune-aosta", kNursery, "nido_la_trottola"), 1,
      Direction::kForward, 10);
  REQUIRE(release.ok());
  REQUIRE(release->size() == 1);
  f.Settle();

  CHECK(f.Outcome(first) == "admitted");
  CHECK(f.Outcome(later) == "waiting");
  CHECK(f.reactor->admitted() == 1);
  const auto moved = f.Admissions(first);
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].actor == R"({"system":"waiting-list"})");
  CHECK(moved[0].causation_id == WaitingListReactor::IdempotencyKey(release->at(0)));
  json data = json::parse(moved[0].data);
  CHECK(data["moved_up_from_waiting_list"] == true);
  CHECK(data["released_by"] ==
        json({{"stream", release->at(0).stream}, {"version", 1}, {"enrolment", admitted}}));

  // The account opens as at an operator's admission: the tariffs frozen with the ISEE band.
  const WorkflowState account = f.wf.State(domain::AccountStream(first, kNursery));
  CHECK(account.status == "open");
  CHECK(account.fields["enrolment"] == first);
  CHECK(account.fields["regime"] == "periodic");
  CHECK(account.fields["tariffs"][0]["amount_cents"] == 15000);  // ISEE 5,000 euro
  // The rankings view shows the move: the one admitted, the other still next.
  auto counts = f.views->Get(
      projections::RankingsProjection::kName,
      projections::RankingsProjection::CountsKey("comune-aosta", kNursery, "nido_la_trottola"));
  REQUIRE(counts.ok());
  REQUIRE(counts->has_value());
  json n = json::parse(**counts);
  CHECK(n["admitted"] == 1);
  CHECK(n["waiting"] == 1);
  CHECK(n["withdrawn"] == 1);
}

TEST_CASE("two releases admit two, in the ranking's order", "[waiting_list]") {
  TempDir tmp;
  WaitingListFixture f(NurseryWith(tmp, 2));
  const std::string a = f.Enrol(1, 900'000, "admitted");
  const std::string b = f.Enrol(2, 900'000, "admitted");
  const std::string third = f.Enrol(3, 2'000'000, "waiting");
  const std::string second = f.Enrol(4, 1'000'000, "waiting");
  const std::string first = f.Enrol(5, 100'000, "waiting");
  f.Withdraw(a);
  f.Withdraw(b);
  f.Settle();
  CHECK(f.Outcome(first) == "admitted");
  CHECK(f.Outcome(second) == "admitted");
  CHECK(f.Outcome(third) == "waiting");
  CHECK(json::parse(f.Admissions(first).at(0).data)["released_by"]["version"] == 1);
  CHECK(json::parse(f.Admissions(second).at(0).data)["released_by"]["version"] == 2);
  CHECK(f.reactor->admitted() == 2);
}

TEST_CASE("a service whose waiting list is manual moves nobody up", "[waiting_list]") {
  TempDir tmp;
  WaitingListFixture f(NurseryWith(tmp, 1, "manual"));
  const std::string a = f.Enrol(1, 900'000, "admitted");
  const std::string waiting = f.Enrol(2, 900'000, "waiting");
  f.Withdraw(a);
  const uint64_t head = f.wf.logf.log->LastPosition();
  f.Settle();
  CHECK(f.wf.logf.log->LastPosition() == head);
  CHECK(f.Outcome(waiting) == "waiting");
  // The operator admits it, as before.
  f.wf.Must(kOp, waiting, "admit_to_service", {{"service", kNursery}});
}

TEST_CASE("the same release handled again after a restart admits once", "[waiting_list]") {
  TempDir tmp;
  WaitingListFixture f(NurseryWith(tmp, 1));
  const std::string a = f.Enrol(1, 900'000, "admitted");
  const std::string first = f.Enrol(2, 100'000, "waiting");
  const std::string next = f.Enrol(3, 900'000, "waiting");
  f.Settle();
  const uint64_t before_release = f.reactor->checkpoint();
  f.Withdraw(a);
  f.Settle();
  REQUIRE(f.Outcome(first) == "admitted");
  const uint64_t head = f.wf.logf.log->LastPosition();

  SECTION("the checkpoint set back before the release") {
    auto batch = f.views->NewBatch();
    batch->SetCheckpoint(projections::kWaitingListView, before_release);
    REQUIRE(f.views->Commit(*batch).ok());
    f.Restart();
    f.Settle();
  }
  SECTION("twice in one process, as after a crash before the checkpoint") {
    auto batch = f.views->NewBatch();
    batch->SetCheckpoint(projections::kWaitingListView, before_release);
    REQUIRE(f.views->Commit(*batch).ok());
    f.reactor = std::make_unique<WaitingListReactor>(*f.wf.handler, *f.views, *f.runner,
                                                     f.wf.domain->services);
    f.Settle();
  }
  CHECK(f.wf.logf.log->LastPosition() == head);
  CHECK(f.Admissions(first).size() == 1);
  CHECK(f.Outcome(next) == "waiting");
  CHECK(f.reactor->admitted() == 0);
}

TEST_CASE("with no place free when the release is handled, nobody is admitted", "[waiting_list]") {
  TempDir tmp;
  WaitingListFixture f(NurseryWith(tmp, 1));
  const std::string a = f.Enrol(1, 900'000, "admitted");
  const std::string waiting = f.Enrol(2, 100'000, "waiting");
  const std::string ranked = f.Enrol(3, 900'000, "ranked");
  f.Settle();
  f.Withdraw(a);
  // An operator gives the freed place to another application before the reactor looks.
  f.wf.Must(kOp, ranked, "admit_to_service", {{"service", kNursery}});
  const uint64_t head = f.wf.logf.log->LastPosition();
  f.Settle();
  CHECK(f.wf.logf.log->LastPosition() == head);
  CHECK(f.Outcome(waiting) == "waiting");
  CHECK(f.reactor->admitted() == 0);
  const ConsumerProgress p = f.reactor->Progress();
  CHECK(p.health.ok());
  CHECK(std::find(p.counters.begin(), p.counters.end(),
                  std::pair<std::string, double>("no_place", 1)) != p.counters.end());
}

}  // namespace procedo::testing
