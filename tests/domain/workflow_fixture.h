// A real log, the real domain data files and a command handler over them. On destruction every
// event in the log is checked against its schema: no test may append an event that fails it.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "domain/procedures.h"
#include "engine/crypto/personal.h"
#include "engine/log_fixture.h"
#include "engine/workflow/command_handler.h"

namespace procedo::testing {

inline Actor A(std::string id, std::string role, std::string tenant = "comune-aosta") {
  return Actor{std::move(id), std::move(role), std::move(tenant)};
}

inline std::string SourceDir() {
  return PROCEDO_SOURCE_DIR;
}

inline std::unique_ptr<domain::Domain> MustLoadDomain(const std::string& dir,
                                                      const std::string& schemas = SourceDir() +
                                                                                   "/schemas") {
  auto d = domain::LoadDomain(dir, schemas);
  if (!d.ok()) throw std::runtime_error(d.status().ToString());
  return std::move(d).value();
}

struct WorkflowFixture {
  LogFixture logf;
  std::string domain_dir;
  std::unique_ptr<domain::Domain> domain;
  std::unique_ptr<SnapshotStore> snapshots;
  CommandHandlerOptions options;
  // With SealPersonalData: the subjects' keys beside the log, opened again with it.
  std::optional<crypto::SubjectKey> master;
  std::unique_ptr<crypto::SubjectKeyStore> keys;
  std::unique_ptr<crypto::PersonalData> personal;
  std::unique_ptr<CommandHandler> handler;

  explicit WorkflowFixture(std::string dir = SourceDir() + "/domain", uint64_t snapshot_every = 64,
                           const std::string& schemas = SourceDir() + "/schemas")
      : domain_dir(std::move(dir)) {
    domain = MustLoadDomain(domain_dir, schemas);
    auto s = OpenRocksDbSnapshotStore(logf.dir.sub("snapshots"));
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    snapshots = std::move(s).value();
    options.clock = &logf.clock;
    options.snapshot_every = snapshot_every;
    handler = std::make_unique<CommandHandler>(*logf.log, domain->workflows, domain->events,
                                               snapshots.get(), options);
  }
  ~WorkflowFixture() {
    handler.reset();
    personal.reset();
    keys.reset();
    if (!logf.log) return;
    auto all = logf.log->ReadAll(1, 1'000'000);
    CHECK(all.ok());  // not REQUIRE: a destructor must not throw
    if (!all.ok()) return;
    for (const auto& e : all.value()) {
      // Sealed events too: a personal field's schema gives its sealed form beside the given one.
      INFO("position " << e.position << " type " << e.type << " data " << e.data);
      CHECK(domain->events.Check(e.type, nlohmann::json::parse(e.data)).ok());
    }
  }
  // Personal data sealed from now on, as a server with a master key runs.
  void SealPersonalData(const crypto::SubjectKey& m = crypto::NewKey()) {
    master = m;
    Restart();
  }
  // A new handler over a reopened log: nothing cached in memory survives.
  void Restart() {
    handler.reset();
    personal.reset();
    keys.reset();
    logf.Reopen();
    if (master) {
      auto k = crypto::SubjectKeyStore::Open(*logf.log, *master);
      if (!k.ok()) throw std::runtime_error(k.status().ToString());
      keys = std::move(k).value();
      personal = std::make_unique<crypto::PersonalData>(*keys, "[dato cancellato]");
      options.personal = personal.get();
      domain->subject_owners->Set(
          [k = keys.get()](const std::string& s) { return k->TenantOf(s); });
    }
    handler = std::make_unique<CommandHandler>(*logf.log, domain->workflows, domain->events,
                                               snapshots.get(), options);
  }
  Result<CommandOutcome> Run(const Actor& who, const std::string& stream, const std::string& name,
                             nlohmann::json payload = nlohmann::json::object(),
                             std::string key = "") {
    Command c;
    c.stream = stream;
    c.name = name;
    c.payload = std::move(payload);
    c.idempotency_key = std::move(key);
    return handler->Handle(c, who);
  }
  // Runs a command that must be accepted.
  CommandOutcome Must(const Actor& who, const std::string& stream, const std::string& name,
                      nlohmann::json payload = nlohmann::json::object()) {
    auto r = Run(who, stream, name, std::move(payload));
    INFO(name << " on " << stream << ": "
              << (r.ok() ? (r->accepted() ? "" : r->rejection->message) : r.status().ToString()));
    REQUIRE(r.ok());
    REQUIRE(r->accepted());
    return std::move(r).value();
  }
  WorkflowState State(const std::string& stream) {
    auto s = handler->Load(stream);
    REQUIRE(s.ok());
    return *s.value();
  }
};

}  // namespace procedo::testing
