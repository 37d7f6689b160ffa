// Every kind of bad input is a clear error and appends nothing.
#include <catch2/catch.hpp>

#include "engine/log/log_store.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {

Status AppendOne(LogFixture& f, std::string stream, NewEvent e) {
  auto r = f.log->Append(Req(std::move(stream), ExpectedVersion::Any(), {std::move(e)}));
  return r.status();
}

}  // namespace

TEST_CASE("stream ids follow <kind>-<id>", "[envelope]") {
  CHECK(ValidateStreamId("case-comune-forli-42").ok());
  CHECK(ValidateStreamId("ticket-7").ok());
  CHECK(ValidateStreamId("enrolment-aosta-mensa:2026@x.y").ok());
  for (const char* bad : {"", "case", "-1", "case-", "Case-1", "1case-1", "case 1-2", "ca$e-1",
                          "case-a b", "case-\xc3\xa8", "case-a\nb"}) {
    INFO(bad);
    auto s = ValidateStreamId(bad);
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::Contains("stream id"));
  }
  CHECK(ValidateStreamId("case-" + std::string(196, 'x')).IsInvalidArgument());
  CHECK(StreamKind("case-forli-1") == "case");
}

TEST_CASE("event types are dotted lowercase words", "[envelope]") {
  CHECK(ValidateEventType("case.suspended").ok());
  CHECK(ValidateEventType("sla.breached").ok());
  CHECK(ValidateEventType("calendar.closure_announced").ok());
  for (const char* bad : {"", "case", "case.", ".case", "case..x", "Case.started", "case.Started",
                          "case.1x", "case-started", "case.started!"}) {
    INFO(bad);
    CHECK(ValidateEventType(bad).IsInvalidArgument());
  }
}

TEST_CASE("bad envelopes are refused and append nothing", "[envelope]") {
  LogFixture f;
  REQUIRE(f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.started")})).ok());
  const uint64_t before = f.log->LastPosition();

  SECTION("data that is not JSON") {
    auto s = AppendOne(f, "case-x-2", Ev("case.started", "{not json"));
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::Contains("not valid JSON"));
  }
  SECTION("data that is JSON but not an object") {
    for (const char* d : {"[1,2]", "42", "\"text\"", "null", "true"}) {
      auto s = AppendOne(f, "case-x-2", Ev("case.started", d));
      CHECK(s.IsInvalidArgument());
      CHECK_THAT(s.message(), Catch::Contains("not an object"));
    }
  }
  SECTION("data nested absurdly deep") {
    std::string deep = "{\"a\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
    auto s = AppendOne(f, "case-x-2", Ev("case.started", deep));
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::Contains("deeper"));
  }
  SECTION("nesting at the limit of 64 is fine, beyond it is refused") {
    auto nest = [](int n) { return std::string(n - 1, '[') + std::string(n - 1, ']'); };
    CHECK(AppendOne(f, "case-x-2", Ev("case.started", "{\"a\":" + nest(64) + "}")).ok());
    CHECK(AppendOne(f, "case-x-2", Ev("case.started", "{\"a\":" + nest(65) + "}")).IsInvalidArgument());
    CHECK(f.log->LastPosition() == before + 1);
    return;
  }
  SECTION("invalid UTF-8 in a string") {
    auto s = AppendOne(f, "case-x-2", Ev("case.started", "{\"a\":\"\xff\xfe\"}"));
    CHECK(s.IsInvalidArgument());
    CHECK_THAT(s.message(), Catch::Contains("UTF-8"));
  }
  SECTION("a pretty-printed document far over the limit") {
    std::string huge = "{\"a\":" + std::string(3 << 20, ' ') + "1}";
    CHECK(AppendOne(f, "case-x-2", Ev("case.started", huge)).IsTooLarge());
  }
  SECTION("an actor that is not an object") {
    NewEvent e = Ev("case.started");
    e.actor = "\"op1\"";
    CHECK(AppendOne(f, "case-x-2", e).IsInvalidArgument());
  }
  SECTION("a tenant with spaces or control bytes") {
    NewEvent e = Ev("case.started");
    e.tenant = "comune di forli";
    CHECK(AppendOne(f, "case-x-2", e).IsInvalidArgument());
    e.tenant = std::string(65, 'a');
    CHECK(AppendOne(f, "case-x-2", e).IsInvalidArgument());
  }
  SECTION("over-long correlation and causation ids") {
    NewEvent e = Ev("case.started");
    e.correlation_id = std::string(129, 'c');
    CHECK(AppendOne(f, "case-x-2", e).IsInvalidArgument());
    e.correlation_id.clear();
    e.causation_id = "a\tb";
    CHECK(AppendOne(f, "case-x-2", e).IsInvalidArgument());
  }
  SECTION("an event over the size limit, and one just under it") {
    std::string big = "{\"text\":\"" + std::string(1 << 20, 'x') + "\"}";
    auto s = AppendOne(f, "case-x-2", Ev("case.started", big));
    CHECK(s.IsTooLarge());
    CHECK_THAT(s.message(), Catch::Contains("over the limit of 1048576"));
    std::string fits = "{\"text\":\"" + std::string((1 << 20) - 400, 'x') + "\"}";
    CHECK(AppendOne(f, "case-x-3", Ev("case.started", fits)).ok());
    CHECK(f.log->LastPosition() == before + 1);
    return;
  }
  SECTION("a bad event anywhere in an append refuses the whole append") {
    auto r = f.log->Append(Req("case-x-2", ExpectedVersion::Any(),
                               {Ev("case.started"), Ev("case.noted"), Ev("case.Bad")}));
    CHECK(r.status().IsInvalidArgument());
    CHECK_THAT(r.status().message(), Catch::Contains("event 3"));
    CHECK(f.log->StreamVersion("case-x-2").value() == 0);
  }
  SECTION("an empty append, and too many events in one") {
    CHECK(f.log->Append(Req("case-x-2", ExpectedVersion::Any(), {})).status().IsInvalidArgument());
    std::vector<NewEvent> many(10'001, Ev("case.noted"));
    CHECK(f.log->Append(Req("case-x-2", ExpectedVersion::Any(), many)).status().IsTooLarge());
  }
  SECTION("exact expected version 0") {
    auto r = f.log->Append(Req("case-x-2", ExpectedVersion::Exact(0), {Ev("case.started")}));
    CHECK(r.status().IsInvalidArgument());
  }
  SECTION("a bad idempotency key") {
    auto r = f.log->Append(Req("case-x-2", ExpectedVersion::Any(), {Ev("case.started")}, "a key"));
    CHECK(r.status().IsInvalidArgument());
  }
  CHECK(f.log->LastPosition() == before);
  CHECK(f.log->ReadAll(1, 100).value().size() == before);
}

TEST_CASE("the configured size limit applies", "[envelope]") {
  LogFixture f;
  f.options.max_event_bytes = 2048;
  f.Reopen();
  std::string d = "{\"t\":\"" + std::string(2000, 'x') + "\"}";
  CHECK(f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {Ev("case.started", d)}))
            .status().IsTooLarge());
  CHECK(f.log->LastPosition() == 0);
}

TEST_CASE("data and actor are stored minified, in the sender's key order", "[envelope]") {
  LogFixture f;
  NewEvent e = Ev("case.started", "{ \"b\" : 1,\n  \"a\" : {\"z\":true, \"y\":[1, 2]}, \"s\": \"x y\" }");
  e.actor = R"({"role":"operator", "id":"op1"})";
  auto r = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {e}));
  REQUIRE(r.ok());
  auto stored = f.log->ReadAll(1, 1).value().at(0);
  CHECK(stored.data == R"({"b":1,"a":{"z":true,"y":[1,2]},"s":"x y"})");
  CHECK(stored.actor == R"({"role":"operator","id":"op1"})");
  CHECK(r->events[0]->data == stored.data);
}

TEST_CASE("events of one append sharing an actor store it minified; a bad later actor refuses all",
          "[envelope]") {
  LogFixture f;
  NewEvent e = Ev("case.started");
  e.actor = R"({"role":"operator", "id":"op1"})";
  auto ok = f.log->Append(Req("case-x-1", ExpectedVersion::Any(), {e, e, e}));
  REQUIRE(ok.ok());
  auto all = f.log->ReadAll(1, 3);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  for (const auto& stored : *all) CHECK(stored.actor == R"({"role":"operator","id":"op1"})");
  NewEvent bad = e;
  bad.actor = R"({"role":"operator", "role":"admin"})";
  auto refused = f.log->Append(Req("case-x-2", ExpectedVersion::Any(), {e, e, bad}));
  REQUIRE(refused.status().IsInvalidArgument());
  CHECK_THAT(refused.status().message(), Catch::Contains("event 3") && Catch::Contains("actor"));
  CHECK(f.log->LastPosition() == 3);
}

TEST_CASE("duplicate keys are refused", "[envelope]") {
  LogFixture f;
  auto r = f.log->Append(Req("case-x-1", ExpectedVersion::Any(),
                             {Ev("case.started", R"({"a":1,"n":{"k":1,"k":2}})")}));
  CHECK(r.status().IsInvalidArgument());
  CHECK_THAT(r.status().message(), Catch::Contains("the key 'k' twice"));
  // The same key in different objects is fine.
  CHECK(f.log->Append(Req("case-x-1", ExpectedVersion::Any(),
                          {Ev("case.started", R"({"k":1,"n":{"k":2}})")})).ok());
}
