// What the notifier's tests share: a real log and state store in a temporary directory, the
// shipped schemas and templates, a driven clock and a sender that records what it was given.
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/citizen_access.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/notifier.h"
#include "projections/reactors/notifier_state.h"
#include "support/temp_dir.h"

namespace procedo::testing {

using namespace procedo::projections;
using namespace procedo::domain;
using nlohmann::json;

struct RecordingSender final : MessageSender {
  std::vector<OutgoingMessage> sent;
  int fail_next = 0;
  Status Send(const OutgoingMessage& m) override {
    if (fail_next > 0) {
      --fail_next;
      return Status::Unavailable("connection refused");
    }
    sent.push_back(m);
    return Status::Ok();
  }
};

struct NotifyFixture {
  testing::TempDir dir;
  std::unique_ptr<domain::Domain> domain = std::move(
      domain::LoadDomain(std::string(PROCEDO_SOURCE_DIR) + "/domain",
                         std::string(PROCEDO_SOURCE_DIR) + "/schemas")
          .value());
  std::unique_ptr<LogStore> log;
  // The notifier's and the citizen service's records are commands: a handler over the log.
  std::unique_ptr<CommandHandler> commands;
  std::unique_ptr<ViewStore> state;  // the notifier's fold and checkpoint
  EventSchemas& schemas = domain->events;
  TemplateSet templates;
  ManualClock clock{TimePoint(std::chrono::seconds(1'780'000'000))};
  NotifyFixture() {
    ReopenLog();
    ReopenState();
    templates =
        std::move(TemplateSet::LoadDir(std::string(PROCEDO_SOURCE_DIR) + "/domain/templates"))
            .value();
  }
  // Closes and opens the log again, as a restart of the process does.
  void ReopenLog() {
    commands.reset();
    log.reset();
    LogOptions lo;
    lo.path = dir.sub("log");
    lo.sync = false;
    lo.clock = &clock;
    auto opened = LogStore::Open(lo);
    REQUIRE(opened.ok());
    log = std::move(opened).value();
    CommandHandlerOptions co;
    co.clock = &clock;
    commands = std::make_unique<CommandHandler>(*log, domain->workflows, domain->events, nullptr, co);
  }
  // Closes and opens the state store again, as a restart of the process does.
  void ReopenState() {
    state.reset();
    auto opened = ViewStore::Open(dir.sub("notifier"), {kNotifierView});
    REQUIRE(opened.ok());
    state = std::move(opened).value();
  }
  NotifierOptions Options() {
    NotifierOptions o;
    o.secret = std::string(32, 's');
    o.base_url = "https://pa.example.it";
    o.max_attempts = 3;
    o.retry_base = std::chrono::milliseconds(1000);
    o.hash_cost = PasswordHashCost::Minimal();
    o.clock = &clock;
    return o;
  }
  void Append(const std::string& stream, const std::string& type, const json& data) {
    AppendRequest r{stream,
                    ExpectedVersion::Any(),
                    {NewEvent{type, data.dump(), "comune-forli", R"({"id":"op1"})", "", "", {}}},
                    ""};
    REQUIRE(log->Append(std::move(r)).ok());
  }
  void StartCase(int n, bool consent) {
    Append("case-comune-forli-" + std::to_string(n), "case.started",
           {{"case_code", "FC-" + std::to_string(n)},
            {"procedure_name", "Permesso di costruire"},
            {"applicant", {{"name", "Anna"}, {"email", "anna@example.it"}}},
            {"consent", {{"sms", false}, {"email", consent}}},
            {"office", {{"name", "SUE"}, {"email", "sue@pa.example.it"}}},
            {"responsible", {{"name", "Ing. Rossi"}}},
            {"term_text", "60 gg."}});
  }
  std::vector<std::string> Types(const std::string& stream) {
    std::vector<std::string> out;
    auto events = log->ReadStream(stream, 1, Direction::kForward, 100);
    REQUIRE(events.ok());
    for (const auto& e : events.value()) out.push_back(e.type);
    return out;
  }
  // Pumps until the notifier has folded the whole log, the records of its own sends included.
  void Settle(Notifier& n) {
    for (int i = 0; i < 500; ++i) {
      n.Drain();
      REQUIRE(n.Pump(std::chrono::milliseconds(10)).ok());
      n.Drain();
      if (n.stats().position == log->LastPosition()) return;
    }
    FAIL("the notifier did not reach the log's head");
  }
};

}  // namespace procedo::testing
