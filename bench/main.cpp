// procedo-bench CASE...: each case measures its baseline in the same run and ends with
// "RESULT <case> value=<x> baseline=<y> ratio=<x/y>" (higher is better).
#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "bench/cases.h"

using namespace procedo::bench;

int main(int argc, char** argv) {
  Limits limits;
  if (const char* s = std::getenv("PROCEDO_BENCH_SECONDS"))
    limits.max_time = std::chrono::seconds(std::atoi(s));
  if (const char* s = std::getenv("PROCEDO_BENCH_EVENTS"))
    limits.max_events = std::strtoull(s, nullptr, 10);
  limits.skip_baseline = std::getenv("PROCEDO_BENCH_NO_BASELINE") != nullptr;
  const std::map<std::string, std::function<int()>> cases = {
      {"append-1", [&] { return AppendCase("append-1", 1, limits); }},
      {"append-16", [&] { return AppendCase("append-16", 16, limits); }},
      {"append-64", [&] { return AppendCase("append-64", 64, limits); }},
      {"append-batch", [&] { return AppendBatchCase(limits); }},
      {"replay", [&] { return ReplayCase(limits); }},
      {"command", [&] { return RunCommandCase(limits, PROCEDO_SOURCE_DIR); }},
      {"http-get", [&] { return HttpCases(limits, true, false, false); }},
      {"http-command", [&] { return HttpCases(limits, false, true, false); }},
      {"http-page", [&] { return HttpCases(limits, false, false, true); }},
      {"kafka", [&] { return KafkaCase(limits, PROCEDO_SOURCE_DIR); }},
      {"sla", [&] { return SlaCase(limits, PROCEDO_SOURCE_DIR); }},
      {"notify", [&] { return RunNotifyCase(limits, PROCEDO_SOURCE_DIR); }},
      {"mail-in", [&] { return RunMailCase(limits, PROCEDO_SOURCE_DIR); }},
      {"kb", [&] { return KbCase(limits); }},
      {"balance", [&] { return BalanceCase(limits, PROCEDO_SOURCE_DIR); }},
      {"import", [&] { return ImportCase(limits, PROCEDO_SOURCE_DIR); }},
      {"payments", [&] { return PaymentsCase(limits, PROCEDO_SOURCE_DIR); }},
      {"rebuild", [&] { return RebuildCase(limits, PROCEDO_SOURCE_DIR); }},
      {"catch-up", [&] { return CatchUpCase(limits, PROCEDO_SOURCE_DIR); }},
      {"personal", [&] { return PersonalCase(limits, PROCEDO_SOURCE_DIR); }},
  };
  auto usage = [&] {
    fmt::print(stderr, "usage: procedo-bench CASE... | all\ncases:");
    for (auto& [name, _] : cases) fmt::print(stderr, " {}", name);
    fmt::print(stderr,
               "\nenvironment: PROCEDO_BENCH_SECONDS (10), PROCEDO_BENCH_EVENTS (1000000), "
               "PROCEDO_BENCH_DIR (build/bench-data)\n");
    return 2;
  };
  if (argc < 2) return usage();
  int rc = 0;
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "all") {
      for (auto& [_, run] : cases) rc |= run();
      continue;
    }
    auto it = cases.find(name);
    if (it == cases.end()) return usage();
    try {
      rc |= it->second();
    } catch (const std::exception& e) {
      fmt::print(stderr, "procedo-bench {}: {}\n", name, e.what());
      rc = 1;
    }
  }
  return rc;
}
