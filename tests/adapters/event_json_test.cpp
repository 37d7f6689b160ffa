// A command's answer writes its events as text from what the log stores; what an integrator
// reads must be exactly the envelope EventToJson builds, whatever the strings hold.
#include "adapters/event_json.h"

#include <catch2/catch.hpp>

#include "adapters/command_service.h"

using namespace procedo;

namespace {

Event Sample() {
  Event e;
  e.position = 42;
  e.stream = "case-comune-forli-7";
  e.version = 3;
  e.type = "case.suspended";
  for (size_t i = 0; i < e.id.size(); ++i) e.id[i] = static_cast<uint8_t>(0x10 + i);
  e.time = TimePoint(std::chrono::microseconds(1'795'000'000'123'456));
  e.tenant = "comune-forli";
  e.actor = R"({"id":"op1","role":"operator"})";
  e.correlation_id = "req-1";
  e.causation_id = "";
  e.data = R"({"days":10,"note":"attesa del parere è \"urgente\"","parts":[1,2.5,null]})";
  for (size_t i = 0; i < e.hash.size(); ++i) {
    e.prev_hash[i] = static_cast<uint8_t>(i);
    e.hash[i] = static_cast<uint8_t>(255 - i);
  }
  return e;
}

std::string Text(const Event& e) {
  std::string out;
  AppendEventJson(e, &out);
  return out;
}

}  // namespace

TEST_CASE("an event written as text reads as the envelope, byte for byte", "[http][events]") {
  const Event e = Sample();
  CHECK(Text(e) == EventToJson(e).dump());
  CHECK(nlohmann::json::parse(Text(e)) == EventToJson(e));
}

namespace {

// The text parses, and to what the envelope dumps to (invalid UTF-8 replaced in both).
void CheckAsEnvelope(const Event& e) {
  const auto parsed = nlohmann::json::parse(Text(e), nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  CHECK(parsed == nlohmann::json::parse(EventToJson(e).dump(
                      -1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

}  // namespace

TEST_CASE("an event's strings are escaped in its text as in the envelope", "[http][events]") {
  Event e = Sample();
  SECTION("quotes, backslashes and control characters in a client's correlation id") {
    e.correlation_id = "a\"b\\c\nd\te\x01";
    CheckAsEnvelope(e);
    CHECK(Text(e).find(R"("a\"b\\c\nd\te\u0001")") != std::string::npos);
  }
  SECTION("accented letters") {
    e.correlation_id = "pratica-città";
    CheckAsEnvelope(e);
  }
  SECTION("bytes that are not UTF-8 are replaced, not passed on") {
    e.correlation_id = "x\xff\xfey";
    CheckAsEnvelope(e);
    CHECK(Text(e).find('\xff') == std::string::npos);
  }
  SECTION("an actor and data the log holds in another form than an object") {
    e.actor = "";
    e.data = "not json";
    CheckAsEnvelope(e);
  }
}

TEST_CASE("a command's answer as text holds its body and its events", "[http][events]") {
  CommandReply r;
  r.status = 201;
  r.body = {{"stream", "case-comune-forli-7"},
            {"version", 3},
            {"position", 42},
            {"first_position", 42},
            {"deduplicated", false}};
  r.events = "[" + Text(Sample()) + "]";
  const auto doc = nlohmann::json::parse(r.Text());
  CHECK(doc == r.Document());
  CHECK(doc["version"] == 3);
  REQUIRE(doc["events"].size() == 1);
  CHECK(doc["events"][0] == EventToJson(Sample()));

  CommandReply refused;
  refused.status = 409;
  refused.body = nlohmann::json::object();
  refused.problem = Problem{409, "conflict", "Conflict", "the stream moved on"};
  CHECK_FALSE(nlohmann::json::parse(refused.Text()).contains("events"));
}
