// personal: start_case commands through the command handler, 64 callers, each case's applicant a
// new person whose name, e-mail and mobile the schema marks personal: sealed (a subject claimed,
// its index entry and two keys made, written in the batch of the command's events, three values
// sealed) against the same commands with personal data kept as given, in the same run, each on a
// fresh synced log.
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

nlohmann::json Applicant(uint64_t k) {
  return {{"procedure_id", "access_to_records"},
          {"case_code", fmt::format("PR-{}", k)},
          {"applicant",
           {{"name", fmt::format("Giulia Ferri {}", k)},
            {"email", fmt::format("giulia.{}@example.it", k)},
            {"mobile", fmt::format("+39 333 {:07}", k % 10'000'000)}}},
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

Figures Run(const domain::Domain& d, const Limits& limits, bool sealed) {
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
        Command{fmt::format("case-comune-forli-{}", k), "start_case", Applicant(k), "", ""}, op);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    if (!r->accepted()) throw std::runtime_error(r->rejection->message);
    return 1;
  });
  out.cpu_per_command =
      (CpuMicros() - cpu_before) / static_cast<double>(std::max<uint64_t>(1, next));
  return out;
}

}  // namespace

int PersonalCase(const Limits& limits, const std::string& source_dir) {
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  const Figures baseline = limits.skip_baseline ? Figures{} : Run(**domain, limits, false);
  const Figures value = Run(**domain, limits, true);
  fmt::print("  CPU per command (all threads): {:.0f} µs sealed, {:.0f} µs as given\n",
             value.cpu_per_command, baseline.cpu_per_command);
  PrintResult("personal", value.per_second, baseline.per_second);
  return 0;
}

}  // namespace procedo::bench
