// personal: start_case commands through the command handler, 64 callers, each case's applicant a
// new person whose name, e-mail and mobile the schema marks personal: sealed (a subject claimed,
// its index entry and two keys made, written in the batch of the command's events, three values
// sealed) against the same commands with personal data kept as given, in the same run, each on a
// fresh synced log, in interleaved rounds. Then the same with applicants who come back (their
// subject found by the index, their keys cached), as most of an office's citizens do.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "bench/bench_util.h"
#include "domain/procedures.h"
#include "engine/crypto/personal.h"
#include "engine/workflow/command_handler.h"

namespace procedo::bench {
namespace {

constexpr int kThreads = 64;

// Case k's applicant: person k, or with `people` one of that many (who come back).
nlohmann::json Applicant(uint64_t k, uint64_t people) {
  const uint64_t p = people == 0 ? k : k % people;
  return {{"procedure_id", "access_to_records"},
          {"case_code", fmt::format("PR-{}", k)},
          {"applicant",
           {{"name", fmt::format("Giulia Ferri {}", p)},
            {"email", fmt::format("giulia.{}@example.it", p)},
            {"mobile", fmt::format("+39 333 {:07}", p % 10'000'000)}}},
          {"consent", {{"sms", true}, {"email", true}}}};
}

// The process's CPU time so far (every thread: callers, the log's writer, RocksDB's), in µs.
double CpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

struct Figures {
  double per_second = 0;
  double cpu_per_command = 0;  // µs: steadier than the rate, which the disk's syncs sway
};

Figures Run(const domain::Domain& d, const Limits& limits, bool sealed, uint64_t people) {
  ScratchDir dir(sealed ? "personal" : "personal-baseline");
  LogOptions o;
  o.path = dir.path() + "/log";
  o.sync = true;
  auto log = LogStore::Open(o);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  std::unique_ptr<crypto::SubjectKeyStore> keys;
  std::unique_ptr<crypto::PersonalData> personal;
  if (sealed) {
    auto store = crypto::SubjectKeyStore::Open(**log, crypto::NewKey());
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    keys = std::move(store).value();
    personal = std::make_unique<crypto::PersonalData>(*keys, "[dato cancellato]");
  }
  auto snapshots = NewMemorySnapshotStore();
  CommandHandlerOptions options;
  options.personal = personal.get();
  CommandHandler handler(**log, d.workflows, d.events, snapshots.get(), options);
  const Actor op{"op1", "operator", "comune-forli"};
  std::atomic<uint64_t> next{0};
  const double cpu_before = CpuMicros();
  Figures out;
  out.per_second = RunThreads(kThreads, limits, [&](int, uint64_t) -> uint64_t {
    const uint64_t k = next.fetch_add(1);
    auto r = handler.Handle(
        Command{fmt::format("case-comune-forli-{}", k), "start_case", Applicant(k, people), "", ""},
        op);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    if (!r->accepted()) throw std::runtime_error(r->rejection->message);
    return 1;
  });
  out.cpu_per_command =
      (CpuMicros() - cpu_before) / static_cast<double>(std::max<uint64_t>(1, next));
  return out;
}

}  // namespace

namespace {

// Interleaved rounds, each side on a fresh log: this machine's speed drifts by a fifth over a
// minute (other tenants of the host), and two long runs one after the other would measure the
// drift as much as the sealing.
void Compare(const domain::Domain& d, const Limits& limits, const std::string& name,
             uint64_t people) {
  constexpr int kRounds = 3;
  Limits round = limits;
  round.max_time = limits.max_time / (2 * kRounds);
  round.max_events = limits.max_events / kRounds;
  Figures value, baseline;
  for (int r = 0; r < kRounds; ++r) {
    const Figures b = limits.skip_baseline ? Figures{} : Run(d, round, false, people);
    const Figures v = Run(d, round, true, people);
    fmt::print(
        "  round {}: {:.0f} sealed, {:.0f} as given commands/s ({:.2f}); CPU per command "
        "{:.0f} µs sealed, {:.0f} µs as given\n",
        r + 1, v.per_second, b.per_second, b.per_second > 0 ? v.per_second / b.per_second : 0,
        v.cpu_per_command, b.cpu_per_command);
    value.per_second += v.per_second / kRounds;
    value.cpu_per_command += v.cpu_per_command / kRounds;
    baseline.per_second += b.per_second / kRounds;
    baseline.cpu_per_command += b.cpu_per_command / kRounds;
  }
  fmt::print("  CPU per command (all threads): {:.0f} µs sealed, {:.0f} µs as given\n",
             value.cpu_per_command, baseline.cpu_per_command);
  PrintResult(name, value.per_second, baseline.per_second);
}

}  // namespace

int PersonalCase(const Limits& limits, const std::string& source_dir) {
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  fmt::print("  every applicant a new person (a subject made per command):\n");
  Compare(**domain, limits, "personal", 0);
  fmt::print("  applicants among 1,000 people who come back (a subject found per command):\n");
  Compare(**domain, limits, "personal-known", 1'000);
  return 0;
}

}  // namespace procedo::bench
