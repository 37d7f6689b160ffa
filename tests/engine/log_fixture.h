#pragma once

#include <memory>
#include <string>

#include "engine/log/log_store.h"
#include "support/temp_dir.h"

namespace procedo::testing {

inline NewEvent Ev(std::string type, std::string data = "{}") {
  NewEvent e;
  e.type = std::move(type);
  e.data = std::move(data);
  e.tenant = "comune-forli";
  e.actor = R"({"id":"op1","role":"operator"})";
  return e;
}

inline AppendRequest Req(std::string stream, ExpectedVersion ev, std::vector<NewEvent> events,
                         std::string key = "") {
  return AppendRequest{std::move(stream), ev, std::move(events), std::move(key)};
}

struct LogFixture {
  TempDir dir;
  ManualClock clock{TimePoint(std::chrono::seconds(1'790'000'000))};
  LogOptions options;
  std::unique_ptr<LogStore> log;

  explicit LogFixture(bool sync = false) {
    options.path = dir.sub("log");
    options.sync = sync;  // durability is tested by power_loss_test.cpp; unit tests need speed
    options.clock = &clock;
    Reopen();
  }
  void Reopen() {
    log.reset();
    auto r = LogStore::Open(options);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    log = std::move(r).value();
  }
};

}  // namespace procedo::testing
