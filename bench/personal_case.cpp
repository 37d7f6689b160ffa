// personal: start_case commands through the command handler, 64 callers, each case's applicant a
// new person whose name, e-mail and mobile the schema marks personal: sealed (a subject claimed,
// its index entry and two keys made, written in the batch of the command's events, three values
// sealed) against the same commands with personal data kept as given, in the same run, each on a
// fresh synced log.
#include <fmt/format.h>

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

double Run(const domain::Domain& d, const Limits& limits, bool sealed) {
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
  return RunThreads(kThreads, limits, [&](int, uint64_t) -> uint64_t {
    const uint64_t k = next.fetch_add(1);
    auto r = handler.Handle(
        Command{fmt::format("case-comune-forli-{}", k), "start_case", Applicant(k), "", ""}, op);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    if (!r->accepted()) throw std::runtime_error(r->rejection->message);
    return 1;
  });
}

}  // namespace

int PersonalCase(const Limits& limits, const std::string& source_dir) {
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  const double baseline = limits.skip_baseline ? 0 : Run(**domain, limits, false);
  const double value = Run(**domain, limits, true);
  PrintResult("personal", value, baseline);
  return 0;
}

}  // namespace procedo::bench
