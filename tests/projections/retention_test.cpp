// Retention on a driven clock: a person's personal data is erased, as a command, exactly when the
// last of their streams has ended and its procedure's period (domain/catalogue) has passed; a
// stream still open, or of a procedure without retention, keeps them; a restart erases nothing
// twice. The reactors run on the test's thread (Pump); nothing sleeps.
#include "projections/reactors/retention.h"

#include "domain/italian_text.h"
#include "domain/workflow_fixture.h"
#include "engine/crypto/personal.h"
#include "projection_fixture.h"
#include "projections/reactors/erasure.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::ErasureReactor;
using projections::RetentionReactor;

const Actor kOp = A("op1", "operator");

struct RetentionFixture {
  WorkflowFixture wf;
  TempDir dir;
  std::unique_ptr<ViewStore> views;
  projections::ManualWaiter waiter{wf.logf.clock};
  std::unique_ptr<RetentionReactor> retention;
  std::unique_ptr<ErasureReactor> erasure;

  RetentionFixture() {
    wf.SealPersonalData();
    Open();
  }
  ~RetentionFixture() { Unload(); }
  void Open() {
    views = ViewStore::Open(dir.sub("views"), {projections::kRetentionView}).value();
    retention =
        std::make_unique<RetentionReactor>(*wf.handler, *views, wf.domain->catalogue, waiter);
    erasure = std::make_unique<ErasureReactor>(*wf.logf.log, *wf.keys);
  }
  // The reactors and their store gone, as in a stop.
  void Unload() {
    erasure.reset();
    retention.reset();
    views.reset();
  }

  std::string Start(const std::string& when, const std::string& stream,
                    const std::string& procedure, const std::string& name,
                    const std::string& email) {
    waiter.Set(At(when));
    json payload = {{"procedure_id", procedure},
                    {"case_code", stream},
                    {"applicant", {{"name", name}, {"email", email}}},
                    {"consent", {{"sms", false}, {"email", true}}}};
    auto out = wf.Must(kOp, stream, "start_case", payload);
    auto events = wf.logf.log->ReadStream(stream, 1, Direction::kForward, 1);
    REQUIRE(events.ok());
    return json::parse(events->front().data)["applicant"]["subject"].get<std::string>();
  }
  void Close(const std::string& when, const std::string& stream) {
    waiter.Set(At(when));
    wf.Must(kOp, stream, "close_case", {{"outcome", "accepted"}, {"reason", "Concluso"}});
  }
  // Both reactors once, at `when`: the subjects the retention erased.
  size_t PumpAt(const std::string& when) {
    waiter.Set(At(when));
    auto r = retention->Pump();
    INFO((r.ok() ? "" : r.status().ToString()));
    REQUIRE(r.ok());
    REQUIRE(erasure->Pump().ok());
    return *r;
  }
  bool Erased(const std::string& subject) { return wf.keys->Groups(subject).empty(); }
  size_t ErasureEvents(const std::string& subject) {
    auto r =
        wf.logf.log->ReadStream("subject-comune-aosta-" + subject, 1, Direction::kForward, 100);
    REQUIRE(r.ok());
    return r->size();
  }
};

}  // namespace

TEST_CASE("personal data is erased exactly when the last stream's retention ends", "[retention]") {
  RetentionFixture f;
  const std::string maria = f.Start("2026-01-10T09:00:00Z", "case-comune-aosta-1",
                                    "access_to_records", "Maria Neri", "maria@example.it");
  const std::string luca = f.Start("2026-01-10T09:05:00Z", "case-comune-aosta-2", "building_permit",
                                   "Luca Neri", "luca@example.it");
  const std::string anna = f.Start("2026-01-10T09:10:00Z", "case-comune-aosta-3",
                                   "access_to_records", "Anna Neri", "anna@example.it");
  // Anna again, by her e-mail: the same subject, in a procedure of its own.
  CHECK(f.Start("2026-01-10T09:15:00Z", "case-comune-aosta-4", "road_occupation", "Anna Neri",
                "anna@example.it") == anna);
  f.Close("2026-02-01T10:00:00Z", "case-comune-aosta-1");
  f.Close("2026-02-01T10:01:00Z", "case-comune-aosta-2");  // building permits: no retention
  f.Close("2026-03-01T08:00:00Z", "case-comune-aosta-3");  // Anna's other case stays open
  CHECK(f.PumpAt("2026-03-01T08:00:01Z") == 0);

  // access_to_records keeps 5 years after case.closed: to the microsecond.
  CHECK(f.PumpAt("2031-02-01T09:59:59.999999Z") == 0);
  CHECK_FALSE(f.Erased(maria));
  CHECK(f.PumpAt("2031-02-01T10:00:00Z") == 1);
  CHECK(f.Erased(maria));
  CHECK(f.ErasureEvents(maria) == 1);
  auto erased =
      f.wf.logf.log->ReadStream("subject-comune-aosta-" + maria, 1, Direction::kForward, 1);
  REQUIRE(erased.ok());
  const json data = json::parse(erased->front().data);
  CHECK(data["reason"] == "retention");
  CHECK(data["erased_by"] == RetentionReactor::kActor);
  CHECK(data["erased_at"] == "2031-02-01T10:00:00.000000Z");
  CHECK_FALSE(f.Erased(luca));
  CHECK_FALSE(f.Erased(anna));  // case 3 is past its period, case 4 still open

  // A restart: the reactors' state is on disk; nothing is erased twice.
  f.Unload();
  f.Open();
  CHECK(f.PumpAt("2031-03-01T08:00:00Z") == 0);
  CHECK(f.ErasureEvents(maria) == 1);

  // Anna's open case ends: her data goes 5 years after it, not after the first.
  f.Close("2031-06-01T12:00:00Z", "case-comune-aosta-4");
  CHECK(f.PumpAt("2036-06-01T11:59:59Z") == 0);
  CHECK_FALSE(f.Erased(anna));
  CHECK(f.PumpAt("2036-06-01T12:00:00Z") == 1);
  CHECK(f.Erased(anna));
  // Without retention, kept until an erasure is ordered.
  CHECK(f.PumpAt("2126-01-01T00:00:00Z") == 0);
  CHECK_FALSE(f.Erased(luca));
  CHECK(f.wf.personal->Show(
            json::parse(f.wf.logf.log->ReadStream("case-comune-aosta-1", 1, Direction::kForward, 1)
                            ->front()
                            .data)["applicant"]["name"]
                .get<std::string>()) == domain::kErasedText);
}

}  // namespace procedo::testing
