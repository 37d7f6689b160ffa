// Commands from Kafka without a broker: a command message's bytes to its result's key and value
// (parse, API key, the command path the HTTP API shares, the result's shape). The consumer
// against a real broker and a real `procedo serve` is tests/integration/kafka_commands_test.py.
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "adapters/kafka/command_consumer.h"
#include "adapters/command_service.h"
#include "adapters/kafka/command_message.h"
#include "domain/workflow_fixture.h"
#include "engine/workflow/json_schema.h"

using namespace procedo;
using namespace procedo::kafka;
using nlohmann::json;

namespace {

json Violation(const Problem& p, const std::string& path) {
  for (const auto& v : p.extra.at("violations")) {
    if (v.at("path") == path) return v;
  }
  return nullptr;
}

const json kTicket = {{"channel", "portal"}, {"priority", "high"}, {"subject", "Stampante guasta"}};

std::string Message(json fields) {
  return fields.dump();
}

// The contracts integrators code against: schemas/kafka/*.json.
const JsonSchema& Schema(const std::string& name) {
  static std::map<std::string, JsonSchemaPtr> cache;
  auto& s = cache[name];
  if (!s) {
    auto loaded = JsonSchema::LoadFile(std::string(PROCEDO_SOURCE_DIR) + "/schemas/kafka/" + name);
    if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
    s = std::move(loaded).value();
  }
  return *s;
}

// A result's value, checked against command-result.json.
json Checked(const CommandResult& r) {
  json v = json::parse(r.value);
  auto violations = Schema("command-result.json").Validate(v);
  INFO(r.value);
  INFO(FormatViolations(violations));
  CHECK(violations.empty());
  return v;
}

}  // namespace

TEST_CASE("a command message parses into the command HTTP would build", "[kafka][commands]") {
  auto m = ParseCommandMessage(Message({{"stream", "ticket-comune-forli-1"},
                                        {"command", "open_ticket"},
                                        {"payload", kTicket},
                                        {"expected_version", 0},
                                        {"idempotency_key", "k-1"},
                                        {"correlation_id", "pratica-77"},
                                        {"api_key", "pk_x"}}));
  REQUIRE_FALSE(m.problem);
  CHECK(m.command.stream == "ticket-comune-forli-1");
  CHECK(m.command.name == "open_ticket");
  CHECK(m.command.payload == kTicket);
  CHECK(m.command.expected_version == std::optional<uint64_t>(0));
  CHECK(m.command.idempotency_key == "k-1");
  CHECK(m.command.correlation_id == "pratica-77");
  CHECK(m.api_key == "pk_x");

  // payload and expected_version may be left out (or null): {} and any version, as over HTTP.
  m = ParseCommandMessage(R"({"stream":"s-1","command":"c","idempotency_key":"k","api_key":"a",
                              "expected_version":null})");
  REQUIRE_FALSE(m.problem);
  CHECK(m.command.payload == json::object());
  CHECK_FALSE(m.command.expected_version);
}

TEST_CASE("command.json accepts what the consumer accepts", "[kafka][commands]") {
  const JsonSchema& schema = Schema("command.json");
  json ok = {{"stream", "ticket-comune-forli-1"}, {"command", "open_ticket"}, {"payload", kTicket},
             {"expected_version", 3},      {"idempotency_key", "k-1"}, {"api_key", "pk_x"}};
  CHECK(schema.Validate(ok).empty());
  CHECK_FALSE(ParseCommandMessage(ok.dump()).problem);
  for (const char* field : {"stream", "command", "idempotency_key", "api_key"}) {
    json missing = ok;
    missing.erase(field);
    INFO(field);
    CHECK_FALSE(schema.Validate(missing).empty());
  }
  json unknown = ok;
  unknown["expectedVersion"] = 1;
  CHECK_FALSE(schema.Validate(unknown).empty());
  CHECK(ParseCommandMessage(unknown.dump()).problem);
}

TEST_CASE("a message that is not a JSON object is malformed-json", "[kafka][commands]") {
  for (const char* bad : {"", "not json", "[1,2]", "\"text\"", "{\"stream\":", "\xff\xfe"}) {
    INFO(bad);
    auto m = ParseCommandMessage(bad);
    REQUIRE(m.problem);
    CHECK(m.problem->status == 400);
    CHECK(m.problem->type == "malformed-json");
    CHECK_THAT(m.problem->detail, Catch::Contains("schemas/kafka/command.json"));
  }
}

TEST_CASE("every wrong field is a violation; what could be read is kept", "[kafka][commands]") {
  auto m = ParseCommandMessage(Message({{"stream", "ticket-comune-forli-1"},
                                        {"command", ""},
                                        {"payload", json::array()},
                                        {"expected_version", -1},
                                        {"correlation_id", 5},
                                        {"expectedVersion", 3},
                                        {"api_key", "pk_x"}}));
  REQUIRE(m.problem);
  const Problem& p = *m.problem;
  CHECK(p.status == 400);
  CHECK(p.type == "invalid-command-message");
  CHECK(p.extra["violations"].size() == 6);
  CHECK_THAT(Violation(p, "/idempotency_key")["message"].get<std::string>(),
             Catch::StartsWith("required"));
  CHECK_THAT(Violation(p, "/command")["message"].get<std::string>(),
             Catch::StartsWith("must not be empty"));
  CHECK_THAT(Violation(p, "/payload")["message"].get<std::string>(),
             Catch::Contains("JSON object"));
  CHECK_THAT(Violation(p, "/expected_version")["message"].get<std::string>(),
             Catch::Contains("non-negative integer"));
  CHECK_THAT(Violation(p, "/correlation_id")["message"].get<std::string>(),
             Catch::StartsWith("must be a string"));
  CHECK_THAT(Violation(p, "/expectedVersion")["message"].get<std::string>(),
             Catch::Contains("unknown field"));
  CHECK_THAT(p.detail, Catch::Contains("and 5 more"));
  CHECK(m.command.stream == "ticket-comune-forli-1");  // echoed in the result
  CHECK(m.api_key == "pk_x");
}

TEST_CASE("a command message is answered as over HTTP, keyed by its idempotency key",
          "[kafka][commands]") {
  testing::WorkflowFixture f;
  testing::TempDir keys_dir;
  const std::string file = keys_dir.sub("api-keys.json");
  auto key = CreateApiKey(file, "comune-forli", "protocollo");
  REQUIRE(key.ok());
  auto ring = ApiKeyRing::Load(file);
  REQUIRE(ring.ok());
  MessageOrigin origin{"p.commands", 2, 41, "ticket-comune-forli-1"};
  const CommandService service(f.handler.get(), {"comune-forli", "comune-aosta"});
  auto answer = [&](const std::string& value, size_t max = 1 << 20) {
    return AnswerCommandMessage(value, origin, **ring, &service, max);
  };
  auto command = [&](json extra) {
    json m = {{"stream", "ticket-comune-forli-1"},
              {"command", "open_ticket"},
              {"payload", kTicket},
              {"idempotency_key", "k-1"},
              {"api_key", key->secret}};
    if (!extra.is_null()) m.update(extra);
    return m.dump();
  };

  CommandResult first = answer(command({}));
  CHECK(first.status == 201);
  CHECK(first.outcome == MessageOutcome::kAccepted);
  CHECK(first.key == "k-1");
  json v = Checked(first);
  CHECK(v["status"] == 201);
  CHECK(v["stream"] == "ticket-comune-forli-1");
  CHECK(v["command"] == "open_ticket");
  CHECK(v["idempotency_key"] == "k-1");
  CHECK(v["version"] == 1);
  CHECK(v["deduplicated"] == false);
  CHECK(v["origin"] == json({{"topic", "p.commands"}, {"partition", 2}, {"offset", 41}}));
  REQUIRE(v["events"].size() == 1);
  CHECK(v["events"][0]["type"] == "ticket.opened");
  CHECK(v["events"][0]["tenant"] == "comune-forli");
  CHECK(v["events"][0]["actor"]["role"] == "integrator");
  CHECK(v["events"][0]["causation_id"] == "k-1");
  CHECK_FALSE(v.contains("api_key"));

  SECTION("a redelivery is answered from the idempotency record") {
    CommandResult again = answer(command({}));
    CHECK(again.status == 200);
    CHECK(again.outcome == MessageOutcome::kDeduplicated);
    json a = Checked(again);
    CHECK(a["deduplicated"] == true);
    CHECK(a["position"] == v["position"]);
    CHECK(a["events"] == v["events"]);
    CHECK(f.logf.log->LastPosition() == 2);  // the ticket and its number, once
  }
  SECTION("refusals carry HTTP's problem types") {
    CommandResult bad = answer(command({{"idempotency_key", "k-2"},
                                        {"stream", "ticket-comune-forli-2"},
                                        {"payload", {{"channel", "fax"}}}}));
    CHECK(bad.status == 422);
    CHECK(bad.outcome == MessageOutcome::kRefused);
    CHECK(bad.key == "k-2");
    json p = Checked(bad);
    CHECK(p["type"] == "https://procedo.dev/problems/payload-invalid");
    CHECK(p["title"] == "The command's payload is invalid");
    CHECK(p["violations"].size() >= 2);  // channel not in the enum, priority and subject missing
    CHECK(p["stream"] == "ticket-comune-forli-2");

    CommandResult role = answer(command({{"idempotency_key", "k-3"},
                                         {"stream", "case-comune-forli-9"},
                                         {"command", "start_case"}}));
    CHECK(role.status == 403);
    CHECK(Checked(role)["type"] == "https://procedo.dev/problems/role-not-allowed");

    CommandResult conflict = answer(command({{"idempotency_key", "k-4"},
                                             {"command", "record_reminder"},
                                             {"expected_version", 7},
                                             {"payload", {{"text", "Sollecito"}}}}));
    CHECK(conflict.status == 409);
    CHECK(Checked(conflict)["actual_version"] == 1);
    CHECK(f.logf.log->LastPosition() == 2);  // nothing after the ticket and its number
  }
  SECTION("an unknown or missing API key is 401, before the command is looked at") {
    CommandResult r = answer(command({{"api_key", key->secret + "x"}, {"payload", 5}}));
    CHECK(r.status == 401);
    CHECK(r.outcome == MessageOutcome::kUnauthenticated);
    CHECK(r.key == "k-1");
    json p = Checked(r);
    CHECK(p["type"] == "https://procedo.dev/problems/unauthenticated");
    CHECK(p["detail"] == ApiKeyRing::kUnknownKey);
    CHECK_FALSE(p.contains("violations"));
    json no_key = json::parse(command({}));
    no_key.erase("api_key");
    r = answer(no_key.dump());
    CHECK(r.status == 401);
    CHECK_THAT(Checked(r)["detail"].get<std::string>(), Catch::Contains("api_key"));
  }
  SECTION("malformed messages are keyed by the Kafka message key") {
    CommandResult r = answer("this is not JSON");
    CHECK(r.status == 400);
    CHECK(r.outcome == MessageOutcome::kMalformed);
    CHECK(r.key == "ticket-comune-forli-1");
    CHECK(Checked(r)["origin"]["offset"] == 41);
    json no_idem = json::parse(command({}));
    no_idem.erase("idempotency_key");
    r = answer(no_idem.dump());
    CHECK(r.status == 400);
    CHECK(r.key == "ticket-comune-forli-1");
    CHECK(Checked(r)["type"] == "https://procedo.dev/problems/invalid-command-message");
    origin.key.clear();
    CHECK(answer("[]").key.empty());
  }
  SECTION("a result over the size limit leaves the events out, not the answer") {
    json long_ticket = kTicket;
    long_ticket["description"] = std::string(2000, 'x');
    CommandResult r = answer(
        command(
            {{"idempotency_key", "k-5"}, {"stream", "ticket-comune-forli-5"}, {"payload", long_ticket}}),
        1000);
    CHECK(r.status == 201);
    json big = Checked(r);
    CHECK(big["events_omitted"] == true);
    CHECK(big["events"].empty());
    CHECK(big["version"] == 1);
    CHECK(r.value.size() < 1000);
  }
}

TEST_CASE("the consumer refuses bad options; with no broker it reports why and stops at once",
          "[kafka][commands]") {
  testing::TempDir dir;
  auto ring = ApiKeyRing::Load(dir.sub("api-keys.json"));  // no file yet: no integrators
  REQUIRE(ring.ok());
  CommandConsumerOptions o;
  o.bootstrap = "127.0.0.1:1";  // nothing listens there
  o.topic_prefix = "bad prefix";
  CHECK(CommandConsumer::Start(nullptr, *ring, o).status().IsInvalidArgument());
  o.topic_prefix = "p";
  o.group_id = "";
  auto no_group = CommandConsumer::Start(nullptr, *ring, o);
  CHECK_THAT(no_group.status().message(), Catch::Contains("kafka.commands_group_id"));
  o.group_id = "p-commands";
  CHECK(CommandConsumer::Start(nullptr, nullptr, o).status().IsInvalidArgument());

  auto c = CommandConsumer::Start(nullptr, *ring, o);
  REQUIRE(c.ok());
  CHECK((*c)->commands_topic() == "p.commands");
  CHECK((*c)->results_topic() == "p.command-results");
  // The refused connection is reported once librdkafka serves its events (at the latest when
  // topic creation gives up, after 5 s), and the consumer keeps retrying.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*c)->Stats().last_error.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CommandConsumerStats st = (*c)->Stats();
  CHECK_THAT(st.last_error, Catch::Contains("127.0.0.1:1"));  // the unreachable broker, named
  CHECK(st.received == 0);
  CHECK(st.lag == 0);
  auto t0 = std::chrono::steady_clock::now();
  (*c)->Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
}
