// The admission's refusals over HTTP, in process: no place free is a 409 of its own problem
// type, a household member that does not exist a 422; both leave the log as it was.
#include <catch2/catch.hpp>

#include "adapters/command_service.h"
#include "adapters/http/api.h"
#include "adapters/http/dev_keys.h"
#include "domain/enrolment_steps.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

struct CommandRoutes {
  TempDir tmp;
  WorkflowFixture f{NurseryWith(tmp, 1)};
  std::unique_ptr<http::Authenticator> auth;
  http::Metrics metrics;
  std::unique_ptr<CommandService> service;
  std::unique_ptr<http::Api> api;
  http::Router router;
  std::string private_key;

  CommandRoutes() {
    auto keys = http::EnsureDevKeys(f.logf.dir.sub("keys"));
    REQUIRE(keys.ok());
    private_key = keys->private_pem_file;
    http::AuthOptions ao;
    ao.jwt_public_key_files = {keys->public_pem_file};
    ao.clock = &f.logf.clock;
    auto a = http::Authenticator::Create(ao);
    REQUIRE(a.ok());
    auth = std::move(a).value();
    service =
        std::make_unique<CommandService>(f.handler.get(), std::set<std::string>{"comune-aosta"});
    api = std::make_unique<http::Api>(*f.logf.log, *auth, metrics, f.logf.clock);
    api->command_service = service.get();
    api->commands = f.handler.get();
    api->workflows = &f.domain->workflows;
    http::AddCommandRoutes(router, *api);
  }

  http::Response Post(const std::string& stream, const std::string& command, const json& body,
                      const std::string& role, const std::string& subject) {
    auto token = http::IssueToken(private_key, subject, role, "comune-aosta", std::chrono::hours(1),
                                  f.logf.clock.Now());
    REQUIRE(token.ok());
    http::Request req;
    req.method = "POST";
    req.path = req.target = "/v1/streams/" + stream + "/commands/" + command;
    req.body = body.dump();
    req.headers["authorization"] = "Bearer " + *token;
    auto match = router.Find(req);
    REQUIRE(match.handler != nullptr);
    return (*match.handler)(req);
  }
};

// cit1's household registered through the route, and an application for canteen naming
// `member` of it.
json StartNamingMember(CommandRoutes& r, const std::string& household, const std::string& member) {
  CHECK(r.Post(household, "register_household", SamplePayload("register_household"), "citizen",
               "cit1")
            .status == 201);
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  start["household"] = {{"stream", household}, {"member", member}};
  return start;
}

}  // namespace

TEST_CASE("admit_to_service with no place free answers 409 no-place-free", "[accounts]") {
  CommandRoutes r;
  SubmitAndRank(r.f, "enrolment-comune-aosta-1", {});
  SubmitAndRank(r.f, "enrolment-comune-aosta-2", {.citizen = "cit2"});
  const json nursery = {{"service", "nursery"}};
  CHECK(r.Post("enrolment-comune-aosta-1", "admit_to_service", nursery, "operator", "op1").status ==
        201);
  const uint64_t head = r.f.logf.log->LastPosition();
  http::Response full =
      r.Post("enrolment-comune-aosta-2", "admit_to_service", nursery, "operator", "op1");
  CHECK(full.status == 409);
  json problem = json::parse(full.body);
  CHECK(problem["type"] == "https://procedo.dev/problems/no-place-free");
  CHECK(problem["status"] == 409);
  CHECK_THAT(problem["detail"].get<std::string>(), Catch::Contains("place_on_waiting_list"));
  CHECK(r.f.logf.log->LastPosition() == head);
}

TEST_CASE("an application naming a member its household lacks answers 422 reference-missing",
          "[accounts]") {
  CommandRoutes r;
  const std::string h = "household-comune-aosta-1";
  json start = StartNamingMember(r, h, "m2");
  const uint64_t head = r.f.logf.log->LastPosition();
  http::Response refused =
      r.Post("enrolment-comune-aosta-1", "start_enrolment", start, "citizen", "cit1");
  CHECK(refused.status == 422);
  CHECK(json::parse(refused.body)["type"] == "https://procedo.dev/problems/reference-missing");
  CHECK(r.f.logf.log->LastPosition() == head);
}

TEST_CASE("a citizen naming another person's household answers as if it did not exist",
          "[accounts]") {
  CommandRoutes r;
  const std::string h = "household-comune-aosta-1";
  json start = StartNamingMember(r, h, "m1");
  const uint64_t head = r.f.logf.log->LastPosition();
  http::Response theirs =
      r.Post("enrolment-comune-aosta-1", "start_enrolment", start, "citizen", "cit2");
  start["household"]["stream"] = "household-comune-aosta-9";
  http::Response nobodys =
      r.Post("enrolment-comune-aosta-1", "start_enrolment", start, "citizen", "cit2");
  CHECK(theirs.status == 422);
  CHECK(nobodys.status == 422);
  json a = json::parse(theirs.body), b = json::parse(nobodys.body);
  CHECK(a["type"] == "https://procedo.dev/problems/reference-missing");
  CHECK(a["type"] == b["type"]);
  std::string detail = b["detail"];
  detail.replace(detail.find("household-comune-aosta-9"), 24, h);
  CHECK(a["detail"] == detail);
  CHECK(r.f.logf.log->LastPosition() == head);
  // Its own registrant names it.
  start["household"]["stream"] = h;
  CHECK(r.Post("enrolment-comune-aosta-1", "start_enrolment", start, "citizen", "cit1").status ==
        201);
}

}  // namespace procedo::testing
