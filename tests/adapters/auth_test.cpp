#include <catch2/catch.hpp>

#include <filesystem>

#include "adapters/api_keys.h"
#include "adapters/http/api.h"
#include "adapters/http/auth.h"
#include "adapters/http/dev_keys.h"
#include "support/temp_dir.h"

using namespace procedo;
using namespace procedo::http;
using std::chrono::seconds;

namespace {
Request WithBearer(const std::string& token, const std::string& remote = "10.0.0.1") {
  Request r;
  r.headers["authorization"] = "Bearer " + token;
  r.remote = remote;
  return r;
}
int StatusOf(const std::variant<Principal, Response>& v) {
  return std::holds_alternative<Principal>(v) ? 200 : std::get<Response>(v).status;
}
}  // namespace

TEST_CASE("development tokens verify; expiry and rate limits follow the injected clock", "[auth]") {
  testing::TempDir dir;
  ManualClock clock(TimePoint(seconds(1'800'000'000)));
  auto keys = EnsureDevKeys(dir.sub("keys"));
  REQUIRE(keys.ok());
  AuthOptions o;
  o.jwt_public_key_files = {keys->public_pem_file};
  o.clock = &clock;
  auto auth = Authenticator::Create(o);
  REQUIRE(auth.ok());

  auto token = IssueToken(keys->private_pem_file, "op1", "operator", "comune-forli", seconds(600), clock.Now());
  REQUIRE(token.ok());
  auto who = (*auth)->Authenticate(WithBearer(*token));
  REQUIRE(std::holds_alternative<Principal>(who));
  CHECK(std::get<Principal>(who).id == "op1");
  CHECK(std::get<Principal>(who).role == "operator");
  CHECK(std::get<Principal>(who).tenant == "comune-forli");

  clock.Advance(seconds(601));
  auto late = (*auth)->Authenticate(WithBearer(*token));
  REQUIRE(StatusOf(late) == 401);
  CHECK_THAT(std::get<Response>(late).body, Catch::Contains("expired"));

  SECTION("unknown roles and missing tenants are refused") {
    auto bad_role = IssueToken(keys->private_pem_file, "x", "superuser", "t", seconds(60), clock.Now());
    CHECK(StatusOf((*auth)->Authenticate(WithBearer(*bad_role))) == 401);
    auto no_tenant = IssueToken(keys->private_pem_file, "x", "operator", "", seconds(60), clock.Now());
    CHECK(StatusOf((*auth)->Authenticate(WithBearer(*no_tenant))) == 401);
    auto admin = IssueToken(keys->private_pem_file, "root", "admin", "", seconds(60), clock.Now());
    CHECK(StatusOf((*auth)->Authenticate(WithBearer(*admin))) == 200);
  }
  SECTION("a key the server does not trust") {
    auto other = EnsureDevKeys(dir.sub("other"));
    auto foreign = IssueToken(other->private_pem_file, "x", "admin", "", seconds(60), clock.Now());
    CHECK(StatusOf((*auth)->Authenticate(WithBearer(*foreign))) == 401);
  }
  SECTION("failing attempts are throttled per credential and per address; valid ones never") {
    auto fresh = IssueToken(keys->private_pem_file, "op1", "operator", "comune-forli",
                            seconds(600), clock.Now());
    // The same junk token: 3 failures (max_failures_per_credential), then 429 for it.
    for (int i = 0; i < 3; ++i) {
      CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk", "10.9.9.9"))) == 401);
    }
    CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk", "10.9.9.9"))) == 429);
    CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk", "10.2.2.2"))) == 429);  // any address
    // Other junk from 10.9.9.9 (4 failures so far): the address reaches 10, then 429.
    for (int i = 0; i < 6; ++i) {
      CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk-" + std::to_string(i), "10.9.9.9"))) ==
            401);
    }
    auto throttled = (*auth)->Authenticate(WithBearer("junk-x", "10.9.9.9"));
    REQUIRE(StatusOf(throttled) == 429);
    CHECK_THAT(std::get<Response>(throttled).body, Catch::Contains("valid credentials"));
    // A valid token from the very same address is never refused for others' failures.
    CHECK(StatusOf((*auth)->Authenticate(WithBearer(*fresh, "10.9.9.9"))) == 200);
    CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk-y", "10.1.1.1"))) == 401);  // other peer
    clock.Advance(seconds(61));
    CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk-z", "10.9.9.9"))) == 401);
    CHECK(StatusOf((*auth)->Authenticate(WithBearer("junk", "10.9.9.9"))) == 401);
  }
  SECTION("behind a trusted proxy, failures count per client of X-Forwarded-For") {
    AuthOptions po = o;
    po.trusted_proxies = {"10.0.0.1"};
    auto proxied = Authenticator::Create(po);
    REQUIRE(proxied.ok());
    auto via = [](const std::string& token, const std::string& client) {
      Request r = WithBearer(token, "10.0.0.1");
      r.headers["x-forwarded-for"] = client + ", 10.0.0.1";
      return r;
    };
    for (int i = 0; i < 10; ++i) {
      CHECK(StatusOf((*proxied)->Authenticate(via("j" + std::to_string(i), "198.51.100.1"))) == 401);
    }
    CHECK(StatusOf((*proxied)->Authenticate(via("j-last", "198.51.100.1"))) == 429);
    // Another client behind the same proxy is not affected.
    CHECK(StatusOf((*proxied)->Authenticate(via("j-other", "198.51.100.2"))) == 401);
    // From an untrusted peer, X-Forwarded-For is ignored: the peer itself is counted.
    Request direct = WithBearer("j-direct", "10.7.7.7");
    direct.headers["x-forwarded-for"] = "198.51.100.1";
    CHECK(StatusOf((*proxied)->Authenticate(direct)) == 401);
  }
}

TEST_CASE("a token of a key taken out of the configuration is refused after the reload", "[auth]") {
  testing::TempDir dir;
  ManualClock clock(TimePoint(seconds(1'800'000'000)));
  auto old_keys = EnsureDevKeys(dir.sub("old"));
  auto new_keys = EnsureDevKeys(dir.sub("new"));
  REQUIRE(old_keys.ok());
  REQUIRE(new_keys.ok());
  const std::string trusted = dir.path() + "/trusted.pem";
  std::filesystem::copy_file(old_keys->public_pem_file, trusted);
  AuthOptions o;
  o.jwt_public_key_files = {trusted};
  o.clock = &clock;
  auto auth = Authenticator::Create(o);
  REQUIRE(auth.ok());
  auto old_token = IssueToken(old_keys->private_pem_file, "op1", "operator", "comune-forli",
                              seconds(600), clock.Now());
  auto new_token = IssueToken(new_keys->private_pem_file, "op2", "operator", "comune-forli",
                              seconds(600), clock.Now());
  // Verified once, then answered from the verified tokens: the same answer twice.
  CHECK(StatusOf((*auth)->Authenticate(WithBearer(*old_token))) == 200);
  CHECK(StatusOf((*auth)->Authenticate(WithBearer(*old_token))) == 200);
  CHECK(StatusOf((*auth)->Authenticate(WithBearer(*new_token))) == 401);

  // The key rotated (a leaked key replaced): what it signed no longer opens the API, even a
  // token verified a moment ago that has not expired.
  std::filesystem::copy_file(new_keys->public_pem_file, trusted,
                             std::filesystem::copy_options::overwrite_existing);
  REQUIRE((*auth)->Reload().ok());
  CHECK(StatusOf((*auth)->Authenticate(WithBearer(*old_token))) == 401);
  auto who = (*auth)->Authenticate(WithBearer(*new_token));
  REQUIRE(std::holds_alternative<Principal>(who));
  CHECK(std::get<Principal>(who).id == "op2");
}

TEST_CASE("API keys are stored hashed and authenticate as integrators", "[auth]") {
  testing::TempDir dir;
  std::string file = dir.sub("api-keys.json");
  auto k = CreateApiKey(file, "comune-forli", "protocollo");
  REQUIRE(k.ok());
  CHECK(k->secret.size() == 67);
  CHECK(CreateApiKey(file, "", "x").status().IsInvalidArgument());
  AuthOptions o;
  o.api_keys_file = file;
  auto auth = Authenticator::Create(o);
  REQUIRE(auth.ok());
  Request r;
  r.headers["x-api-key"] = k->secret;
  auto who = (*auth)->Authenticate(r);
  REQUIRE(std::holds_alternative<Principal>(who));
  CHECK(std::get<Principal>(who).role == "integrator");
  CHECK(std::get<Principal>(who).tenant == "comune-forli");
  r.headers["x-api-key"] = k->secret + "x";
  CHECK(StatusOf((*auth)->Authenticate(r)) == 401);
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the router matches patterns, reports 405 with the allowed methods", "[router]") {
  Router router;
  router.Add("GET", "/v1/streams/{id}/events", [](Request& r) { return Response::Json(200, {{"id", r.params["id"]}}); });
  router.Add("POST", "/v1/streams/{id}/commands/{command}", [](Request&) { return Response::Json(201, {}); }, true);
  Request get;
  get.method = "GET";
  get.path = "/v1/streams/case-x-1/events";
  auto m = router.Find(get);
  REQUIRE(m.handler);
  CHECK((*m.handler)(get).body == R"({"id":"case-x-1"})");
  CHECK(get.route == "/v1/streams/{id}/events");
  Request post = get;
  post.method = "POST";
  auto m2 = router.Find(post);
  CHECK_FALSE(m2.handler);
  CHECK(m2.path_known);
  CHECK(m2.allowed == std::vector<std::string>{"GET"});
  Request cmd;
  cmd.method = "POST";
  cmd.path = "/v1/streams/case-x-1/commands/suspend_case";
  auto m3 = router.Find(cmd);
  REQUIRE(m3.handler);
  CHECK(m3.blocking);
  CHECK(cmd.params["command"] == "suspend_case");
  Request none;
  none.method = "GET";
  none.path = "/nope";
  CHECK_FALSE(router.Find(none).path_known);
  bool ok = true;
  CHECK(UrlDecode("a%20b+c", &ok) == "a b c");
  CHECK(ok);
  UrlDecode("%zz", &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("the citizen's session cookie is Secure under TLS only", "[citizen]") {
  // Over plain HTTP a browser drops a Secure cookie from any host but localhost: the session
  // would never come back.
  const std::string plain = CitizenCookie("tok", seconds(1800), false);
  CHECK(plain == "procedo_citizen=tok; Path=/v1/citizen; Max-Age=1800; HttpOnly; SameSite=Strict");
  const std::string tls = CitizenCookie("tok", seconds(1800), true);
  CHECK(tls == plain + "; Secure");
  CHECK(CitizenCookie("tok", seconds(-5), false).find("Max-Age=0;") != std::string::npos);
}
