// The citizen's login against a real log: wrong passwords are counted in the log, so a restart
// forgives no guess; lockouts in a row double; a right password or new credentials start the
// count over; parallel guesses are all counted.
#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "notify_fixture.h"
#include "domain/citizen_access.h"

using namespace procedo;
using namespace procedo::projections;
using namespace procedo::domain;
using procedo::testing::NotifyFixture;
using std::chrono::seconds;

namespace {

const std::string kSecret(32, 's');
const std::string kCase = "case-comune-forli-1";
const std::string kCitizen = "citizen-comune-forli-FC-1";

struct LoginFixture : NotifyFixture {
  std::unique_ptr<CitizenAccess> access;
  LoginFixture() {
    StartCase(1, true);
    auto hash = HashPassword(DerivePassword(kSecret, kCase, 1), PasswordHashCost::Minimal());
    REQUIRE(hash.ok());
    Append(kCitizen, "citizen.credentials_issued",
           {{"case_stream", kCase},
            {"case_code", "FC-1"},
            {"tenant", "comune-forli"},
            {"issue", 1},
            {"reason", "start"},
            {"password_hash", *hash},
            {"issued_at", "2026-05-28T10:00:00Z"}});
    Restart();
  }
  CitizenAccessOptions Options(int max_failures = 3) {
    CitizenAccessOptions o;
    o.secret = kSecret;
    o.max_failures = max_failures;
    o.lockout_base = seconds(60);
    o.hash_cost = PasswordHashCost::Minimal();
    o.clock = &clock;
    return o;
  }
  // A new process: the log reopened, a new CitizenAccess with nothing in memory.
  void Restart(int max_failures = 3) {
    access.reset();
    ReopenLog();
    access = std::make_unique<CitizenAccess>(*commands, Options(max_failures));
  }
  LoginOutcome Login(const std::string& password) {
    auto r = access->Login("comune-forli", "FC-1", password);
    REQUIRE(r.ok());
    return *r;
  }
};

}  // namespace

TEST_CASE("wrong passwords count across restarts and lockouts in a row double", "[citizen]") {
  LoginFixture f;
  const std::string right = DerivePassword(kSecret, kCase, 1);
  CHECK_FALSE(f.Login("wrong-1").locked);
  CHECK_FALSE(f.Login("wrong-2").locked);
  f.Restart();  // an in-memory count would forgive both
  LoginOutcome third = f.Login("wrong-3");
  CHECK(third.locked);
  CHECK(third.retry_after == seconds(60));
  CHECK(f.Login(right).locked);  // even the right password waits
  f.clock.Advance(seconds(59));
  f.Restart();
  LoginOutcome still = f.Login(right);
  CHECK(still.locked);
  CHECK(still.retry_after == seconds(1));

  f.clock.Advance(seconds(1));
  CHECK_FALSE(f.Login("wrong-4").locked);
  f.Restart();
  CHECK_FALSE(f.Login("wrong-5").locked);
  f.Restart();
  LoginOutcome second = f.Login("wrong-6");
  CHECK(second.locked);
  CHECK(second.retry_after == seconds(120));  // the second lockout in a row

  f.clock.Advance(seconds(120));
  f.Restart();
  CHECK_FALSE(f.Login("wrong-7").locked);
  CHECK(f.Login(right).ok);  // ends the run of failures...
  f.Restart();
  CHECK_FALSE(f.Login("wrong-8").locked);
  CHECK_FALSE(f.Login("wrong-9").locked);  // ...so this is the second in a row, not the third
  CHECK(f.Types(kCitizen) ==
        std::vector<std::string>{"citizen.credentials_issued", "citizen.login_failed",
                                 "citizen.login_failed", "citizen.locked_out",
                                 "citizen.login_failed", "citizen.login_failed",
                                 "citizen.locked_out", "citizen.login_failed", "citizen.logged_in",
                                 "citizen.login_failed", "citizen.login_failed"});

  // The office resends the credentials: the lockout series starts over at the base interval.
  auto issue = f.access->Resend(kCase, "op1");
  REQUIRE(issue.ok());
  CHECK(*issue == 2);
  CHECK_FALSE(f.Login(right).ok);  // the old password stopped working (and counts as wrong)
  CHECK_FALSE(f.Login("wrong-10").locked);
  LoginOutcome after_resend = f.Login("wrong-11");
  CHECK(after_resend.locked);
  CHECK(after_resend.retry_after == seconds(60));
}

TEST_CASE("parallel wrong passwords for one case code are all counted", "[citizen]") {
  LoginFixture f;
  f.Restart(/*max_failures=*/100);
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};  // counted by the threads, asserted on the test thread
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&f, &errors, t] {
      for (int i = 0; i < 5; ++i) {
        auto r = f.access->Login("comune-forli", "FC-1", "wrong-" + std::to_string(t * 10 + i));
        if (!r.ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(errors == 0);
  auto events = f.log->ReadStream(kCitizen, 1, Direction::kForward, 100);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 31);
  CHECK(nlohmann::json::parse(events->back().data)["failures"] == 30);
}

TEST_CASE("an unknown case code records nothing", "[citizen]") {
  LoginFixture f;
  for (int i = 0; i < 5; ++i) {
    auto r = f.access->Login("comune-forli", "NOPE-1", "x");
    REQUIRE(r.ok());
    CHECK_FALSE(r->ok);
    CHECK_FALSE(r->locked);
  }
  CHECK(f.Types("citizen-comune-forli-NOPE-1").empty());
  // A tenant that is not an organisation id is bad input, not a lookup.
  CHECK(f.access->Login("comune forli", "FC-1", "x").status().IsInvalidArgument());
}

TEST_CASE("a resend ends the sessions of the old password", "[citizen]") {
  LoginFixture f;
  LoginOutcome in = f.Login(DerivePassword(kSecret, kCase, 1));
  REQUIRE(in.ok);
  auto session = f.access->Verify(in.token);
  REQUIRE(session.ok());
  CHECK(session->case_stream == kCase);
  REQUIRE(f.access->Resend(kCase, "op1").ok());
  auto after = f.access->Verify(in.token);
  REQUIRE_FALSE(after.ok());
  CHECK(after.status().code() == Status::Code::kPermissionDenied);
  CHECK(after.status().message().find("new credentials") != std::string::npos);
  LoginOutcome again = f.Login(DerivePassword(kSecret, kCase, 2));
  REQUIRE(again.ok);
  CHECK(f.access->Verify(again.token).ok());
  // Sessions expire on the injected clock.
  f.clock.Advance(std::chrono::minutes(31));
  CHECK_FALSE(f.access->Verify(again.token).ok());
}

TEST_CASE("case codes are per Comune: another Comune's code of the same name has its own "
          "credentials and lockout", "[citizen]") {
  LoginFixture f;  // comune-forli's FC-1, max 3 failures
  const std::string right = DerivePassword(kSecret, kCase, 1);
  // comune-aosta gives its own case the same code.
  const std::string aosta_case = "case-comune-aosta-1";
  auto hash = HashPassword(DerivePassword(kSecret, aosta_case, 1), PasswordHashCost::Minimal());
  REQUIRE(hash.ok());
  REQUIRE(f.log->Append({"citizen-comune-aosta-FC-1", ExpectedVersion::NoStream(),
                         {NewEvent{"citizen.credentials_issued",
                                   nlohmann::json{{"case_stream", aosta_case},
                                                  {"case_code", "FC-1"},
                                                  {"tenant", "comune-aosta"},
                                                  {"issue", 1},
                                                  {"reason", "start"},
                                                  {"password_hash", *hash},
                                                  {"issued_at", "2026-05-28T10:00:00Z"}}
                                       .dump(),
                                   "comune-aosta", R"({"id":"op9"})", "", "", {}}},
                         ""})
              .ok());
  // Three wrong passwords lock out Aosta's FC-1 ...
  for (int i = 0; i < 3; ++i) {
    auto r = f.access->Login("comune-aosta", "FC-1", "wrong");
    REQUIRE(r.ok());
    CHECK_FALSE(r->ok);
  }
  auto locked = f.access->Login("comune-aosta", "FC-1", DerivePassword(kSecret, aosta_case, 1));
  REQUIRE(locked.ok());
  CHECK(locked->locked);
  // ... and Forli's FC-1 is untouched: its own password opens its own case.
  LoginOutcome forli = f.Login(right);
  REQUIRE(forli.ok);
  CHECK(forli.session.case_stream == kCase);
  CHECK(forli.session.tenant == "comune-forli");
  // Aosta's password does not open Forli's case.
  CHECK_FALSE(f.Login(DerivePassword(kSecret, aosta_case, 1)).ok);
}

TEST_CASE("the survey comment's limit counts characters, not bytes", "[citizen][survey]") {
  LoginFixture f;
  f.Append("case-comune-forli-2", "case.started",
           {{"case_code", "FC-2"}, {"procedure_id", "building_permit"}});
  const CitizenSession session{"case-comune-forli-2", "FC-2", "comune-forli", 1, {}};
  // "è" is two bytes: the longest comment is kSurveyCommentMax of them, twice as many bytes.
  std::string longest;
  for (size_t i = 0; i < kSurveyCommentMax; ++i) longest += "è";
  REQUIRE(longest.size() == 2 * kSurveyCommentMax);
  const std::string survey = "survey-comune-forli-building_permit";
  CHECK(f.access->AnswerSurvey(session, 4, longest + "a").IsInvalidArgument());
  CHECK(f.Types(survey).empty());
  REQUIRE(f.access->AnswerSurvey(session, 4, longest).ok());
  CHECK(f.Types(survey) == std::vector<std::string>{"survey.answered"});
}
