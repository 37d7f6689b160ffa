// Random commands from random actors: whatever is accepted is something the definition allows,
// every appended event matches its schema (checked by the fixture), and folding a stream twice
// gives the same state as the handler's cache.
#include <fmt/format.h>

#include <random>

#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {

TEST_CASE("random command sequences never produce an event the definition forbids") {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("PROCEDO_SEED")) seed = std::stoull(s);
  WARN("seed " << seed << " (rerun with PROCEDO_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](const auto& v) { return *std::next(v.begin(), rng() % v.size()); };

  WorkflowFixture f(SourceDir() + "/domain", /*snapshot_every=*/5);
  const std::vector<std::string> tenants = {"comune-aosta", "comune-aosta", "comune-pila",
                                            "regione-vda"};
  const std::vector<std::string> ids = {"a1", "a2", "cit1"};
  std::vector<std::string> roles(domain::Roles().begin(), domain::Roles().end());
  std::map<std::string, int> outcomes;
  std::set<std::string> streams;

  for (const auto& [wid, def] : f.domain->workflows.all()) {
    // The product's own workflows name their streams after what they hold (a calendar, a case
    // code, a message, a data subject), or exist only through another stream's command (a service
    // account, opened by its enrolment's admission); their own tests cover them.
    if (wid == "calendar" || wid == "citizen" || wid == "survey" || wid == "notification" ||
        wid == "mailbox" || wid == "service_account" || wid == "data_subject") {
      continue;
    }
    for (int n = 0; n < 12; ++n) {
      std::string stream = fmt::format("{}-comune-aosta-p{}", def->stream_kind, n);
      streams.insert(stream);
      for (int step = 0; step < 60; ++step) {
        // Mostly plausible actors, so that many commands get through; the rest anyone at all.
        std::string name = rng() % 20 ? pick(def->commands).first : "no_such_command";
        const CommandSpec* pspec = name == "no_such_command" ? nullptr : &def->commands.at(name);
        Actor who{pick(ids), pspec && rng() % 4 ? pick(pspec->roles) : pick(roles), pick(tenants)};
        if (rng() % 4) who.tenant = who.role == "region" ? "regione-vda" : "comune-aosta";
        json payload =
            name == "no_such_command" ? json::object() : SamplePayloadFor(name, who.role);
        if (rng() % 8 == 0 && !payload.empty()) payload.erase(payload.begin());
        if (rng() % 4 == 0) f.logf.clock.Advance(std::chrono::minutes(rng() % 600));

        WorkflowState before = f.State(stream);
        auto r = f.Run(who, stream, name, payload);
        INFO("seed " << seed << " " << stream << " step " << step << ": " << name << " by "
                     << who.id << "/" << who.role << "@" << who.tenant);
        if (!r.ok() && name == "create_payment_position" && who.role == "citizen") {
          // The allocator's rule, after decide: a citizen tops up only an account of theirs,
          // and no sample names one (payment_positions_test covers it).
          CHECK((r.status().code() == Status::Code::kPermissionDenied ||
                 r.status().Is(Status::SubCode::kReferenceMissing)));
          CHECK(f.State(stream) == before);
          outcomes["allocator_refused"]++;
          continue;
        }
        if (!r.ok() && name == "declare_dependant") {
          // The sample child, declared once already on this household.
          CHECK(r.status().Is(Status::SubCode::kAlreadyPresent));
          CHECK(f.State(stream) == before);
          outcomes["allocator_refused"]++;
          continue;
        }
        REQUIRE(r.ok());
        if (!r->accepted()) {
          outcomes[RejectionKindName(r->rejection->kind)]++;
          CHECK(f.State(stream) == before);
          continue;
        }
        outcomes["accepted"]++;
        const CommandSpec& spec = def->commands.at(name);
        if (!before.exists()) {
          CHECK(spec.initial);
        } else {
          CHECK((spec.any_state ||
                 std::count(spec.from.begin(), spec.from.end(), before.status) == 1));
          std::string owner = spec.tenant_field
                                  ? before.fields.value(*spec.tenant_field, std::string())
                                  : before.tenant;
          CHECK(who.tenant == owner);
        }
        CHECK(std::count(spec.roles.begin(), spec.roles.end(), who.role) == 1);
        // The command's own events first (all it declares, or those its decider chose, in
        // order); what allocators added (a counter's number) after, on other streams, in the
        // same write.
        size_t own = 0;
        while (own < r->append.events.size() && r->append.events[own]->stream == stream) ++own;
        if (spec.decider) {
          CHECK(own <= spec.events.size());
        } else {
          REQUIRE(own == spec.events.size());
        }
        for (size_t i = own; i < r->append.events.size(); ++i) {
          CHECK(r->append.events[i]->position == r->append.events[i - 1]->position + 1);
        }
        std::optional<std::string> to = spec.to;
        for (size_t i = 0; i < own; ++i) {
          const EventSpec* e = spec.FindEvent(r->append.events[i]->type);
          REQUIRE(e != nullptr);
          if (!spec.decider) CHECK(e == &spec.events[i]);
          CHECK(r->append.events[i]->version == before.version + i + 1);
          if (e->to) to = e->to;
        }
        WorkflowState after = f.State(stream);
        CHECK(after.status == to.value_or(before.status));
        CHECK(after.tenant == (before.exists() ? before.tenant : who.tenant));
      }
    }
  }
  WARN("outcomes: accepted " << outcomes["accepted"] << ", role " << outcomes["role_not_allowed"]
                             << ", tenant " << outcomes["tenant_not_allowed"] << ", state "
                             << outcomes["not_allowed_in_state"] << ", payload "
                             << outcomes["payload_invalid"] << ", guard "
                             << outcomes["guard_refused"] << ", unknown "
                             << outcomes["unknown_command"]);
  CHECK(outcomes["accepted"] > 150);

  // Fold twice from the log alone: the same state, and the same as the handler's.
  CommandHandler one(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  CommandHandler two(*f.logf.log, f.domain->workflows, f.domain->events, nullptr);
  for (const auto& s : streams) {
    auto a = one.Load(s), b = two.Load(s);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a.value() == *b.value());
    CHECK(*a.value() == f.State(s));
  }
  std::map<std::string, WorkflowState> folded;
  for (const auto& s : streams) folded[s] = *one.Load(s).value();
  f.Restart();  // snapshots and replay only
  for (const auto& s : streams) CHECK(folded[s] == f.State(s));
  CHECK(f.handler->snapshots_used() > 0);
}

}  // namespace procedo::testing
