// balance: the balance query of a beneficiary with five school years of daily meals (1,300
// movements), answered from the accounts projection as GET /v1/accounts/{id}/balance answers it
// (the balance row read, decoded and checked against domain/access.h), against the view store's
// point get of that same row in the same run. A fold of the account's stream is timed too, as
// a note: what the query would cost without the projection.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "bench/bench_util.h"
#include "domain/access.h"
#include "domain/accounts.h"
#include "domain/procedures.h"
#include "engine/views/projection.h"
#include "engine/workflow/command_handler.h"
#include "engine/workflow/decide.h"
#include "projections/views/accounts.h"

namespace procedo::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kMeals = 1'300;

double P(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

void Must(CommandHandler& h, const Actor& who, const std::string& stream, const std::string& name,
          json payload) {
  auto r = h.Handle(Command{stream, name, std::move(payload), "", ""}, who);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  if (!r->accepted()) throw std::runtime_error(name + ": " + r->rejection->message);
}

// School days from September 2021: Monday to Friday, 260 a year.
std::string SchoolDay(int n) {
  using namespace std::chrono;
  sys_days day = sys_days(year(2021) / September / 1);
  for (int seen = 0;;) {
    const weekday w{day};
    if (w != Saturday && w != Sunday && seen++ == n) break;
    day += days(1);
  }
  const year_month_day ymd{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

}  // namespace

int BalanceCase(const Limits& limits, const std::string& source_dir) {
  auto loaded = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
  const domain::Domain& d = *loaded.value();
  ScratchDir dir("balance");
  LogOptions o;
  o.path = dir.path() + "/log";
  auto log = LogStore::Open(o);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto snapshots = NewMemorySnapshotStore();
  CommandHandler handler(**log, d.workflows, d.events, snapshots.get());

  const Actor cit{"cit1", "citizen", "comune-aosta"}, op{"op1", "operator", "comune-aosta"};
  const std::string s = "enrolment-comune-aosta-1";
  Must(handler, cit, s, "start_enrolment",
       {{"channel", "online"},
        {"applicant", {{"name", "Carla Blanc"}, {"tax_code", "BLNCRL80A41A326K"}}},
        {"beneficiary",
         {{"name", "Luca Blanc"}, {"tax_code", "BLNLCU15C10A326P"}, {"birth_date", "2015-03-10"}}},
        {"services", {"canteen"}},
        {"site", "primaria_saint_roch"},
        {"isee_cents", 900'000}});
  Must(handler, cit, s, "complete_details",
       {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
  Must(handler, cit, s, "submit_enrolment", json::object());
  Must(handler, op, s, "rank_for_service", {{"service", "canteen"}});
  Must(handler, op, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = domain::AccountStream(s, "canteen");
  const auto filling = Clock::now();
  for (int n = 0; n < kMeals; ++n) {
    if (n % 20 == 0) {
      Must(handler, op, account, "top_up_account",
           {{"movement_id", fmt::format("R{}", n)}, {"amount_cents", 21 * 390}});
    }
    Must(handler, op, account, "record_usage",
         {{"movement_id", fmt::format("M{}", n)},
          {"date", SchoolDay(n)},
          {"site", "primaria_saint_roch"}});
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - filling).count();

  projections::AccountsProjection projection;
  auto views = ViewStore::Open(dir.path() + "/views", {projection.name()});
  if (!views.ok()) throw std::runtime_error(views.status().ToString());
  {
    ProjectionRunner runner(**log, **views, {&projection});
    if (Status st = runner.CatchUp(); !st.ok()) throw std::runtime_error(st.ToString());
  }

  const std::string key = projections::AccountsProjection::BalanceKey(account);
  const Principal reader{"cit1", "citizen", "comune-aosta"};
  std::vector<double> ours, base;
  int64_t balance = 0;
  uint64_t sink = 0;
  const auto deadline = Clock::now() + limits.max_time;
  for (uint64_t n = 0; n < 1'000'000 && (n < 20'000 || Clock::now() < deadline); ++n) {
    const auto a = Clock::now();
    auto row = (*views)->Get(projection.name(), key);
    if (!row.ok() || !row->has_value()) throw std::runtime_error("no balance row");
    json summary = json::parse(**row);
    if (!domain::MayRead(reader, domain::AccountFacts(summary.value("tenant", ""),
                                                      summary.value("holder", "")))) {
      throw std::runtime_error("the holder may not read their account");
    }
    balance = summary.value("balance_cents", int64_t{0});
    const auto b = Clock::now();
    if (!limits.skip_baseline) {
      auto raw = (*views)->Get(projection.name(), key);
      sink += raw.ok() && raw->has_value() ? (*raw)->size() : 0;
      base.push_back(std::chrono::duration<double, std::micro>(Clock::now() - b).count());
    }
    ours.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }

  // The same answer without the projection: the account's stream read and folded.
  const auto f0 = Clock::now();
  WorkflowState state;
  const WorkflowDefinition* def = d.workflows.ForStream(account);
  auto events = (*log)->ReadStream(account, 1, Direction::kForward, 1'000'000);
  if (!events.ok()) throw std::runtime_error(events.status().ToString());
  for (const auto& e : *events) {
    if (Status st = ApplyEvent(*def, state, e); !st.ok()) throw std::runtime_error(st.ToString());
  }
  const double fold_us = std::chrono::duration<double, std::micro>(Clock::now() - f0).count();
  const int64_t folded = state.derived["account_ledger"].value("balance_cents", int64_t{0});

  const double p99 = P(ours, 0.99), bp99 = P(base, 0.99);
  fmt::print(
      "balance: {} movements on the account ({} events, filled through the command handler in "
      "{:.1f} s); balance {} cents (the stream's fold says {})\n",
      kMeals + kMeals / 20, events->size(), fill_s, balance, folded);
  fmt::print(
      "balance: {} queries; p50 {:.2f} us, p99 {:.2f} us; view row point get p50 {:.2f} us, p99 "
      "{:.2f} us; one fold of the stream {:.0f} us\n",
      ours.size(), P(ours, 0.5), p99, P(base, 0.5), bp99, fold_us);
  fmt::print(
      "balance: value and baseline are 1e6 / p99 in us (queries per second at the p99 pace)\n");
  PrintResult("balance", p99 > 0 ? 1e6 / p99 : 0.0, bp99 > 0 ? 1e6 / bp99 : 0.0);
  const bool broken = balance != folded || (!limits.skip_baseline && sink == 0);
  return broken ? 1 : 0;
}

}  // namespace procedo::bench
