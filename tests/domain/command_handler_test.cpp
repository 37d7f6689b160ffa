// The command path against a real log: conflicts, idempotent retries, cache and snapshots.
#include <fmt/format.h>

#include <atomic>
#include <future>
#include <numeric>
#include <thread>

#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

const Actor kOp = A("op1", "operator");

// A state folded from the whole stream, with no cache and no snapshot.
WorkflowState Replayed(WorkflowFixture& f, const std::string& stream) {
  CommandHandler fresh(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  auto s = fresh.Load(stream);
  REQUIRE(s.ok());
  return *s.value();
}

}  // namespace

TEST_CASE("a stream moved on by another writer is seen before deciding") {
  WorkflowFixture f;
  const std::string s = "case-comune-aosta-1";
  f.Must(kOp, s, "start_case", SamplePayload("start_case"));
  REQUIRE(f.State(s).version == 1);  // cached in f.handler

  // Another handler (another process, say) moves the stream on.
  CommandHandler other(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  Command suspend{s, "suspend_case", SamplePayload("suspend_case"), "", ""};
  REQUIRE(other.Handle(suspend, kOp).ok());

  // The cached state is checked against the log's version, so the command meets "suspended"
  // and is refused for what it is, not for a stale cache.
  auto again = f.Run(kOp, s, "suspend_case", SamplePayload("suspend_case"));
  REQUIRE(again.ok());
  REQUIRE_FALSE(again->accepted());
  CHECK(again->rejection->kind == Rejection::Kind::kNotAllowedInState);
  f.Must(kOp, s, "add_note", SamplePayload("add_note"));
  CHECK(f.State(s).version == 3);
}

TEST_CASE("a conflict between racing deciders is returned to the caller, never retried") {
  WorkflowFixture f;
  const std::string s = "case-comune-aosta-2";
  f.Must(kOp, s, "start_case", SamplePayload("start_case"));
  CommandHandler other(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  std::atomic<int> ok{0}, conflicts{0}, wrong{0};  // threads count; the test thread asserts
  auto race = [&](CommandHandler& h) {
    for (int i = 0; i < 200; ++i) {
      Command note{s, "add_note", SamplePayload("add_note"), "", ""};
      auto r = h.Handle(note, kOp);
      if (r.ok()) {
        ++ok;
      } else if (r.status().IsConflict() && r.status().actual_version().has_value()) {
        ++conflicts;
      } else {
        ++wrong;
      }
    }
  };
  std::thread t1([&] { race(*f.handler); }), t2([&] { race(other); });
  t1.join();
  t2.join();
  CHECK(wrong == 0);
  CHECK(ok + conflicts == 400);
  // Every success is one event; a conflict appended nothing and was not retried behind the
  // caller's back.
  CHECK(f.logf.log->StreamVersion(s).value() == 1 + static_cast<uint64_t>(ok.load()));
}

TEST_CASE("a state handed out never changes under its holder while the handler moves on") {
  WorkflowFixture f;
  const std::string s = "case-comune-aosta-3";
  f.Must(kOp, s, "start_case", SamplePayload("start_case"));
  StatePtr held = f.handler->Load(s).value();
  const WorkflowState before = *held;
  f.Must(kOp, s, "add_note", {{"text", "prima nota"}});
  CHECK(*held == before);  // advanced on a copy: the holder still has version 1
  CHECK(f.State(s).version == 2);
  CHECK(f.State(s).fields["note"] == "prima nota");

  // Writers and readers on one handler and one stream: every state a reader holds keeps its
  // version and note, and the cached state ends equal to a replay.
  std::atomic<bool> done{false};
  std::atomic<int> changed{0}, accepted{0}, wrong{0};
  std::thread reader([&] {
    while (!done) {
      StatePtr p = f.handler->Load(s).value();
      const uint64_t v = p->version;
      const json note = p->fields.value("note", json());
      for (int i = 0; i < 50; ++i) {
        if (p->version != v || p->fields.value("note", json()) != note) ++changed;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto r = f.handler->Handle(
            Command{s, "add_note", {{"text", fmt::format("nota {}-{}", t, i)}}, "", ""}, kOp);
        if (!r.ok() && !r.status().IsConflict()) ++wrong;  // asserted on the test thread
        if (r.ok() && r->accepted()) ++accepted;
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  CHECK(changed == 0);
  CHECK(wrong == 0);
  CHECK(f.State(s).version == 2 + static_cast<uint64_t>(accepted.load()));
  CHECK(f.State(s) == Replayed(f, s));
}

TEST_CASE("a retry with the same idempotency key returns the first result") {
  WorkflowFixture f;
  const std::string s = "voucher-comune-aosta-1";
  auto first = f.Run(kOp, s, "enter_application", SamplePayload("enter_application"), "k-enter-1");
  REQUIRE(first.ok());
  REQUIRE(first->accepted());
  f.logf.clock.Advance(std::chrono::seconds(5));

  SECTION("the initial command, whose retry meets an existing stream") {
    auto retry =
        f.Run(kOp, s, "enter_application", SamplePayload("enter_application"), "k-enter-1");
    REQUIRE(retry.ok());
    REQUIRE(retry->accepted());
    CHECK(retry->append.deduplicated);
    CHECK(retry->append.first_position == first->append.first_position);
    CHECK(retry->append.events.at(0)->data == first->append.events.at(0)->data);
    CHECK(f.logf.log->LastPosition() == 1);
  }
  SECTION("a command that stays allowed, with a time in its data") {
    auto note =
        f.Run(kOp, "case-comune-aosta-1", "start_case", SamplePayload("start_case"), "k-c1");
    REQUIRE(note.ok());
    auto n1 = f.Run(kOp, "case-comune-aosta-1", "add_note", SamplePayload("add_note"), "k-note");
    f.logf.clock.Advance(std::chrono::seconds(5));
    auto n2 = f.Run(kOp, "case-comune-aosta-1", "add_note", SamplePayload("add_note"), "k-note");
    REQUIRE(n2.ok());
    CHECK(n2->append.deduplicated);
    CHECK(n2->append.first_position == n1->append.first_position);
    CHECK(f.State("case-comune-aosta-1").version == 2);
  }
  SECTION("the same key for another command is refused") {
    f.Must(A("val1", "validator"), s, "validate_application", json::object());
    auto other = f.Run(A("val1", "validator"), s, "forward_to_region", json::object(), "k-enter-1");
    REQUIRE_FALSE(other.ok());
    CHECK(other.status().IsInvalidArgument());
    CHECK_THAT(other.status().message(), Catch::Contains("k-enter-1"));
    CHECK(f.State(s).status == "validated");
  }
}

TEST_CASE("cached and snapshotted states equal a full replay, also after a restart") {
  WorkflowFixture f(SourceDir() + "/domain", /*snapshot_every=*/4);
  const std::string s = "case-comune-aosta-7";
  f.Must(kOp, s, "start_case", SamplePayload("start_case"));
  for (int i = 0; i < 9; ++i) {
    f.Must(kOp, s, "add_note", {{"text", "nota " + std::to_string(i)}});
    if (i == 4) f.Must(kOp, s, "suspend_case", SamplePayload("suspend_case"));
  }
  WorkflowState cached = f.State(s);
  CHECK(cached.version == 11);
  CHECK(cached == Replayed(f, s));
  CHECK(f.handler->snapshots_written() == 2);  // at 4 and 8

  f.Restart();
  CHECK(f.State(s) == cached);
  CHECK(f.handler->snapshots_used() == 1);
  f.Must(kOp, s, "resume_case", SamplePayload("resume_case"));
  CHECK(f.State(s) == Replayed(f, s));
  CHECK(f.State(s).status == "open");

  SECTION("a snapshot is really what the state is built from") {
    Snapshot marked{f.domain->workflows.ForStream(s)->fingerprint, Replayed(f, s)};
    marked.state.fields["marker"] = "from-snapshot";
    REQUIRE(f.snapshots->Put(marked).ok());
    f.Restart();
    CHECK(f.State(s).fields["marker"] == "from-snapshot");
  }
  SECTION("a snapshot folded by another version of the definition is ignored") {
    Snapshot stale{"another-definition", Replayed(f, s)};
    stale.state.fields["marker"] = "stale";
    REQUIRE(f.snapshots->Put(stale).ok());
    f.Restart();
    CHECK_FALSE(f.State(s).fields.contains("marker"));
    CHECK(f.State(s) == Replayed(f, s));
  }
}

TEST_CASE(
    "commands sent asynchronously one after another keep the stream's state cached: each folds "
    "only what the previous one added, and a state someone still holds is never changed") {
  WorkflowFixture f;
  const std::string s = "case-comune-aosta-8";
  f.Must(kOp, s, "start_case", SamplePayload("start_case"));
  auto held = f.handler->Load(s);
  REQUIRE(held.ok());
  const StatePtr before = *held;  // a reader still holding version 1
  const WorkflowState first = *before;
  const uint64_t misses = f.handler->cache().misses();
  for (int i = 0; i < 20; ++i) {
    Command note{s, "add_note", {{"text", fmt::format("nota {}", i)}}, "", ""};
    std::promise<Result<CommandOutcome>> answer;
    f.handler->HandleAsync(note, kOp, [&](Result<CommandOutcome> r) { answer.set_value(r); });
    auto r = answer.get_future().get();
    REQUIRE(r.ok());
    REQUIRE(r->accepted());
  }
  auto now = f.handler->Load(s);
  REQUIRE(now.ok());
  CHECK((*now)->version == 21);
  CHECK(**now == Replayed(f, s));
  // Never replayed from the start: every load found the state in the cache.
  CHECK(f.handler->cache().misses() == misses);
  CHECK(*before == first);
}

TEST_CASE("sequence numbers stay gap-free and unique under concurrent submissions") {
  WorkflowFixture f;
  constexpr int kThreads = 8, kEach = 12;
  // Two handlers, as two server processes would have: they share only the log.
  CommandHandler second(*f.logf.log, f.domain->workflows, f.domain->events, nullptr, f.options);
  std::vector<std::vector<int64_t>> numbers(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CommandHandler& h = t % 2 ? second : *f.handler;
      for (int i = 0; i < kEach; ++i) {
        std::string s = fmt::format("enrolment-comune-aosta-{}-{}", t, i);
        Actor who = t % 3 ? A(fmt::format("cit{}-{}", t, i), "citizen") : A("op1", "operator");
        json start = SamplePayloadFor("start_enrolment", who.role);
        start["services"] = {"canteen"};
        for (auto [name, payload] :
             {std::pair{"start_enrolment", start},
              std::pair{"complete_details",
                        json{{"details", {{"canteen", SampleAnswers("canteen")}}}}},
              std::pair{"submit_enrolment", json::object()}}) {
          auto r = h.Handle(Command{s, name, payload, "", ""}, who);
          if (!r.ok() || !r->accepted()) {
            failures++;
            break;
          }
          if (std::string(name) == "submit_enrolment") {
            numbers[t].push_back(
                json::parse(r->append.events[0]->data)["sequence_numbers"]["canteen"]);
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  std::vector<int64_t> all;
  for (auto& v : numbers) {
    // Each caller's own submissions come out in the order it made them.
    CHECK(std::is_sorted(v.begin(), v.end()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(kThreads * kEach);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(all == expected);
  CHECK(f.logf.log->StreamVersion("sequence-comune-aosta-canteen").value() == kThreads * kEach);
}

TEST_CASE("the handler refuses streams no workflow handles and events their schema refuses") {
  WorkflowFixture f;
  auto r = f.Run(kOp, "parcel-comune-aosta-1", "start_case", SamplePayload("start_case"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK_THAT(r.status().message(), Catch::Contains("parcel"));

  // An effect that writes what the event's schema does not allow is a bug: reported, not appended.
  f.domain->hooks->AddEffect("catalogue_entry", [](const DecideContext&, const std::string&,
                                                   json& data) { data["unexpected"] = true; });
  auto bad = f.Run(kOp, "case-comune-aosta-1", "start_case", SamplePayload("start_case"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().IsCorruption());
  CHECK_THAT(bad.status().message(), Catch::Contains("'unexpected'"));
  CHECK(f.logf.log->LastPosition() == 0);
}

}  // namespace procedo::testing
