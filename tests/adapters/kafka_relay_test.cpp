// The parts of the Kafka relay that need no broker: the delivery window, the checkpoint file,
// the CloudEvents headers, and the relay's behaviour with no broker at all. Everything against a
// real broker is in tests/integration/kafka_test.py.
#include <catch2/catch.hpp>
#include <fstream>

#include "adapters/kafka/checkpoint.h"
#include "adapters/kafka/cloudevent.h"
#include "adapters/kafka/delivery_window.h"
#include "adapters/kafka/relay.h"
#include "engine/log_fixture.h"

using namespace procedo;
using namespace procedo::kafka;
using procedo::testing::Ev;
using procedo::testing::Req;

TEST_CASE("the checkpoint moves only over the contiguous confirmed prefix", "[kafka]") {
  DeliveryWindow w(10);
  for (int i = 0; i < 4; ++i) w.Sent();  // 11..14 in flight
  CHECK(w.next() == 15);
  CHECK(w.Confirm(13));
  CHECK(w.Confirm(12));
  CHECK(w.confirmed() == 10);  // 11 is still out
  CHECK(w.Confirm(11));
  CHECK(w.confirmed() == 13);
  CHECK_FALSE(w.Confirm(12));  // stale report
  CHECK_FALSE(w.Confirm(15));  // never sent
  CHECK(w.in_flight() == 1);
  CHECK(w.Confirm(14));
  CHECK(w.confirmed() == 14);
  CHECK(w.in_flight() == 0);
}

TEST_CASE("the checkpoint file round-trips and refuses garbage", "[kafka]") {
  testing::TempDir dir;
  const std::string d = dir.sub("relay");
  auto empty = LoadCheckpoint(d);
  REQUIRE(empty.ok());
  CHECK(empty->position == 0);
  RelayCheckpoint cp{42, {}};
  cp.hash[0] = 0xab;
  cp.hash[31] = 0x01;
  REQUIRE(SaveCheckpoint(d, cp).ok());
  auto back = LoadCheckpoint(d);
  REQUIRE(back.ok());
  CHECK(back->position == 42);
  CHECK(back->hash == cp.hash);
  std::ofstream(d + "/checkpoint") << "not a checkpoint\n";
  auto bad = LoadCheckpoint(d);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().IsCorruption());
  CHECK_THAT(bad.status().message(), Catch::Contains("delete it"));
}

TEST_CASE("an event becomes CloudEvents binary-mode headers", "[kafka]") {
  Event e;
  e.position = 7;
  e.stream = "case-forli-1";
  e.version = 3;
  e.type = "case.suspended";
  e.id = *UuidFromString("01234567-89ab-7def-8123-456789abcdef");
  e.time = TimePoint(std::chrono::seconds(1'790'000'000));
  e.tenant = "comune-forli";
  e.correlation_id = "req-1";
  CloudEventOptions o{"pa", "urn:procedo:forli", "https://example.org/schemas/events/"};
  CHECK(TopicFor(o, e.stream) == "pa.case");
  Headers h = CloudEventHeaders(o, e);
  auto get = [&](const std::string& k) -> std::string {
    for (auto& [n, v] : h)
      if (n == k) return v;
    return "<absent>";
  };
  CHECK(get("ce_specversion") == "1.0");
  CHECK(get("ce_id") == "01234567-89ab-7def-8123-456789abcdef");
  CHECK(get("ce_source") == "urn:procedo:forli");
  CHECK(get("ce_type") == "case.suspended");
  CHECK(get("ce_subject") == "case-forli-1");
  CHECK(get("ce_time") == "2026-09-21T14:13:20.000000Z");
  CHECK(get("content-type") == "application/json");
  CHECK(get("ce_dataschema") == "https://example.org/schemas/events/case.suspended.json");
  CHECK(get("ce_position") == "7");
  CHECK(get("ce_streamversion") == "3");
  CHECK(get("ce_tenant") == "comune-forli");
  CHECK(get("ce_correlationid") == "req-1");
  CHECK(get("ce_causationid") == "<absent>");  // CloudEvents attributes are never empty
}

TEST_CASE("with no broker, appends go on and the relay reports its lag", "[kafka]") {
  testing::LogFixture f;
  RelayOptions o;
  o.bootstrap = "127.0.0.1:1";  // nothing listens there
  o.checkpoint_dir = f.dir.sub("kafka-relay");
  o.clock = &f.clock;
  o.stop_flush = std::chrono::milliseconds(100);
  auto relay = KafkaRelay::Start(f.log.get(), o);
  REQUIRE(relay.ok());
  for (int i = 0; i < 200; ++i) {
    REQUIRE(f.log
                ->Append(Req("case-forli-" + std::to_string(i % 5), ExpectedVersion::Any(),
                             {Ev("case.noted")}))
                .ok());
  }
  f.clock.Advance(std::chrono::seconds(30));
  RelayLag lag = (*relay)->Lag();
  CHECK(lag.head == 200);
  CHECK(lag.confirmed == 0);
  CHECK(lag.positions == 200);
  CHECK(lag.seconds == Approx(30.0));
  CHECK(lag.delivered == 0);
  auto t0 = std::chrono::steady_clock::now();
  (*relay)->Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  auto cp = LoadCheckpoint(o.checkpoint_dir);
  REQUIRE(cp.ok());
  CHECK(cp->position == 0);  // nothing was confirmed, so nothing may be skipped on restart
}

TEST_CASE("a checkpoint from another log is refused", "[kafka]") {
  testing::LogFixture f;
  REQUIRE(f.log->Append(Req("case-forli-1", ExpectedVersion::Any(), {Ev("case.noted")})).ok());
  RelayOptions o;
  o.checkpoint_dir = f.dir.sub("kafka-relay");
  RelayCheckpoint cp{1, {}};  // a hash that is not the event's
  REQUIRE(SaveCheckpoint(o.checkpoint_dir, cp).ok());
  auto relay = KafkaRelay::Start(f.log.get(), o);
  REQUIRE_FALSE(relay.ok());
  CHECK(relay.status().IsCorruption());
  CHECK_THAT(relay.status().message(), Catch::Contains("Delete"));
}
