// Server-issued numbers (TCK-2026-000123): per tenant and local year, gap-free under concurrent
// commands, found again by number, and never found from another tenant.
#include "domain/numbers.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>

#include "engine/calendar/calendar.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

const json kTicket = {
    {"channel", "email"}, {"priority", "normal"}, {"subject", "Stampante guasta"}};

std::string NumberOf(const CommandOutcome& out) {
  return json::parse(out.append.events.at(0)->data).value("number", "");
}

}  // namespace

TEST_CASE("numbers are found in text only whole, and parsed only exactly", "[numbers]") {
  auto n = domain::FindNumber("Re: Ticket TCK-2026-000123 chiuso", "TCK");
  REQUIRE(n);
  CHECK(n->year == 2026);
  CHECK(n->n == 123);
  CHECK(n->Text() == "TCK-2026-000123");
  CHECK_FALSE(domain::FindNumber("XTCK-2026-000123", "TCK"));
  CHECK_FALSE(domain::FindNumber("TCK-2026-000123X", "TCK"));
  CHECK_FALSE(domain::FindNumber("TCK-26-000123", "TCK"));
  CHECK_FALSE(domain::FindNumber("TCK-2026-12345", "TCK"));
  CHECK_FALSE(domain::FindNumber("TCK-2026-", "TCK"));
  CHECK_FALSE(domain::FindNumber("TCK", "TCK"));
  CHECK(domain::FindNumber("TCK-2026-00001 e poi TCK-2026-000007", "TCK")->n == 7);
  CHECK(domain::ParseNumber("TCK-2026-000123", "TCK"));
  CHECK_FALSE(domain::ParseNumber(" TCK-2026-000123", "TCK"));
  CHECK_FALSE(domain::ParseNumber("TCK-2026-000123 ", "TCK"));
  CHECK(domain::CounterStream("comune-forli", "TCK", 2026) == "number-comune-forli-tck-2026");
}

TEST_CASE("server-named streams are derived from the idempotency key, else fresh", "[numbers]") {
  auto a = domain::NewStreamId("ticket", "comune-forli", "k1");
  CHECK(a == domain::NewStreamId("ticket", "comune-forli", "k1"));
  CHECK(a != domain::NewStreamId("ticket", "comune-forli", "k2"));
  CHECK(a != domain::NewStreamId("ticket", "comune-aosta", "k1"));
  CHECK(a.starts_with("ticket-comune-forli-"));
  CHECK(domain::NewStreamId("ticket", "comune-forli", "") !=
        domain::NewStreamId("ticket", "comune-forli", ""));
  CHECK(ValidateStreamId(a).ok());
}

TEST_CASE("parallel openings get gap-free numbers per tenant and year", "[numbers]") {
  WorkflowFixture f;
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<uint64_t>> numbers(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half the threads open tickets of another tenant, which counts on its own.
      const std::string tenant = t % 2 == 0 ? "comune-aosta" : "comune-forli";
      const Actor who = A("hd" + std::to_string(t), "helpdesk_l1", tenant);
      for (int i = 0; i < kEach; ++i) {
        Command c{domain::NewStreamId("ticket", tenant, ""), "open_ticket", kTicket, "", ""};
        auto r = f.handler->Handle(c, who);
        if (!r.ok() || !r->accepted()) {
          failures++;
          continue;
        }
        auto n = domain::FindNumber(NumberOf(*r), "TCK");
        if (!n) {
          failures++;
          continue;
        }
        numbers[t].push_back(n->n);
        // The number leads back to the stream that holds it, in its own tenant only.
        auto back = domain::StreamOfNumber(*f.logf.log, tenant, *n);
        if (!back.ok() || *back != c.stream) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int parity = 0; parity < 2; ++parity) {
    std::vector<uint64_t> all;
    for (int t = parity; t < kThreads; t += 2)
      all.insert(all.end(), numbers[t].begin(), numbers[t].end());
    std::sort(all.begin(), all.end());
    std::vector<uint64_t> expected(kThreads / 2 * kEach);
    std::iota(expected.begin(), expected.end(), 1);
    CHECK(all == expected);
  }
  // 2026-09-21: both series of that year, each at its count.
  CHECK(f.logf.log->StreamVersion("number-comune-aosta-tck-2026").value() == kThreads / 2 * kEach);
  CHECK(f.logf.log->StreamVersion("number-comune-forli-tck-2026").value() == kThreads / 2 * kEach);
  // Another tenant's number is not found from this one.
  auto elsewhere = domain::StreamOfNumber(*f.logf.log, "comune-torino",
                                          *domain::FindNumber("TCK-2026-000001", "TCK"));
  CHECK(elsewhere.status().IsNotFound());
}

TEST_CASE("openings kept in flight together take consecutive numbers, with sync ones between",
          "[numbers]") {
  WorkflowFixture f;
  const Actor who = A("hd", "helpdesk_l1", "comune-forli");
  constexpr int kAsync = 300, kSync = 40;
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  std::vector<std::string> async_numbers;
  std::atomic<int> failures{0};
  // A writer answering synchronously meanwhile numbers past the ones in flight too.
  std::thread sync_writer([&] {
    for (int i = 0; i < kSync; ++i) {
      Command c{domain::NewStreamId("ticket", "comune-forli", ""), "open_ticket", kTicket, "", ""};
      auto r = f.handler->Handle(c, who);
      if (!r.ok() || !r->accepted())
        failures++;
      else {
        std::lock_guard lock(mu);
        async_numbers.push_back(NumberOf(*r));
      }
    }
  });
  for (int i = 0; i < kAsync; ++i) {
    Command c{domain::NewStreamId("ticket", "comune-forli", ""), "open_ticket", kTicket, "", ""};
    f.handler->HandleAsync(c, who, [&](Result<CommandOutcome> r) {
      std::lock_guard lock(mu);
      // In flight together they never take one number twice: none conflicts on the counter.
      if (!r.ok() || !r->accepted())
        failures++;
      else
        async_numbers.push_back(NumberOf(*r));
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return answered == kAsync; });
  }
  sync_writer.join();
  CHECK(failures == 0);
  std::vector<uint64_t> all;
  for (const auto& n : async_numbers) all.push_back(domain::FindNumber(n, "TCK")->n);
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> expected(kAsync + kSync);
  std::iota(expected.begin(), expected.end(), 1);
  CHECK(all == expected);
  CHECK(f.logf.log->StreamVersion("number-comune-forli-tck-2026").value() == kAsync + kSync);
}

TEST_CASE("the year is the tenant's local year: a new series starts at midnight in Rome",
          "[numbers]") {
  WorkflowFixture f;
  const Actor who = A("hd1", "helpdesk_l1", "comune-forli");
  f.logf.clock.Set(*ParseRfc3339("2026-12-31T23:59:00+01:00"));
  auto last = f.Must(who, "ticket-comune-forli-a", "open_ticket", kTicket);
  CHECK(NumberOf(last) == "TCK-2026-000001");
  // 23:30 UTC on 31 December is already 00:30 of the new year in Rome.
  f.logf.clock.Set(*ParseRfc3339("2026-12-31T23:30:00Z"));
  auto first = f.Must(who, "ticket-comune-forli-b", "open_ticket", kTicket);
  CHECK(NumberOf(first) == "TCK-2027-000001");
  auto second = f.Must(who, "ticket-comune-forli-c", "open_ticket", kTicket);
  CHECK(NumberOf(second) == "TCK-2027-000002");
  // Cases count in their own series.
  auto c = f.Must(A("op1", "operator", "comune-forli"), "case-comune-forli-1", "start_case",
                  {{"procedure_id", "building_permit"},
                   {"case_code", "FC-1"},
                   {"applicant", {{"name", "Mario Bianchi"}}},
                   {"consent", {{"sms", false}, {"email", false}}}});
  CHECK(NumberOf(c) == "PRA-2027-000001");
}

TEST_CASE("a retry with the same key is answered from the first opening, number and all",
          "[numbers]") {
  WorkflowFixture f;
  const Actor who = A("hd1", "helpdesk_l1", "comune-forli");
  const std::string stream = domain::NewStreamId("ticket", "comune-forli", "retry-1");
  auto first = f.Run(who, stream, "open_ticket", kTicket, "retry-1");
  REQUIRE(first.ok());
  REQUIRE(first->accepted());
  auto again = f.Run(who, stream, "open_ticket", kTicket, "retry-1");
  REQUIRE(again.ok());
  REQUIRE(again->accepted());
  CHECK(again->append.deduplicated);
  CHECK(NumberOf(*again) == NumberOf(*first));
  CHECK(f.logf.log->StreamVersion("number-comune-forli-tck-2026").value() == 1);
}

}  // namespace procedo::testing
