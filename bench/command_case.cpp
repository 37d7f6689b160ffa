// command: decide + append of single-event commands through the CommandHandler on 10,000
// distinct streams with 64 callers, against raw log appends of the same shape in the same run.
// The state-cache hit rate is printed as a note: the decide path must not be the bottleneck.
#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"
#include "engine/log/log_store.h"

namespace procedo::bench {
namespace {

constexpr int kThreads = 64;
constexpr int kStreams = 10'000;

std::unique_ptr<LogStore> OpenCommandLog(const std::string& path) {
  LogOptions o;
  o.path = path;
  o.sync = true;
  auto r = LogStore::Open(o);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

std::string Stream(uint64_t k) {
  return fmt::format("case-comune-forli-{}", k);
}

nlohmann::json StartPayload(uint64_t k) {
  return {{"procedure_id", "access_to_records"},
          {"case_code", fmt::format("PR-{}", k)},
          {"applicant", {{"name", "Giulia Ferri"}, {"email", "giulia@example.it"}}},
          {"consent", {{"sms", true}, {"email", true}}}};
}

nlohmann::json NotePayload(uint64_t i) {
  return {
      {"text", fmt::format("Nota {}: fascicolo trasmesso all'ufficio tecnico per il parere", i)}};
}

// Stream k belongs to caller k % kThreads, so callers never conflict with each other and every
// command is decided against a state the handler already holds after the warm-up.
template <typename Fn>
void ForEachOwnStream(int t, uint64_t i, Fn&& fn) {
  uint64_t per_thread = kStreams / kThreads;
  fn(static_cast<uint64_t>(t) + kThreads * (i % per_thread));
}

}  // namespace

int RunCommandCase(const Limits& limits, const std::string& source_dir) {
  auto domain = domain::LoadDomain(source_dir + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  const domain::Domain& d = *domain.value();
  const Actor op{"op1", "operator", "comune-forli"};

  // Baseline: the same log, one append of a note-sized event per call, 64 callers.
  double baseline = 0;
  if (!limits.skip_baseline) {
    ScratchDir dir("command-baseline");
    auto log = OpenCommandLog(dir.path());
    std::vector<std::vector<uint64_t>> versions(kThreads,
                                                std::vector<uint64_t>(kStreams / kThreads));
    baseline = RunThreads(kThreads, limits, [&](int t, uint64_t i) -> uint64_t {
      uint64_t slot = i % (kStreams / kThreads);
      uint64_t& v = versions[t][slot];
      AppendRequest r{Stream(t + kThreads * slot),
                      v == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(v),
                      {NewEvent{"case.note_added", NotePayload(i).dump(), "comune-forli",
                                R"({"id":"op1","role":"operator","tenant":"comune-forli"})", "", "",
                                std::nullopt}},
                      ""};
      auto res = log->Append(std::move(r));
      if (!res.ok()) throw std::runtime_error(res.status().ToString());
      v = res->stream_version;
      return 1;
    });
  }

  ScratchDir dir("command");
  auto log = OpenCommandLog(dir.path());
  auto snapshots = NewMemorySnapshotStore();
  CommandHandlerOptions options;
  options.cache_entries = 2 * kStreams;
  CommandHandler handler(*log, d.workflows, d.events, snapshots.get(), options);

  // Warm-up (not measured): every stream starts as a case.
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (uint64_t k = t; k < kStreams; k += kThreads) {
          auto r = handler.Handle(Command{Stream(k), "start_case", StartPayload(k), "", ""}, op);
          if (!r.ok() || !r->accepted()) std::abort();
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  uint64_t hits0 = handler.cache().hits(), misses0 = handler.cache().misses();

  double value = RunThreads(kThreads, limits, [&](int t, uint64_t i) -> uint64_t {
    uint64_t n = 0;
    ForEachOwnStream(t, i, [&](uint64_t k) {
      auto r = handler.Handle(Command{Stream(k), "add_note", NotePayload(i), "", ""}, op);
      if (!r.ok()) throw std::runtime_error(r.status().ToString());
      if (!r->accepted()) throw std::runtime_error(r->rejection->message);
      n = 1;
    });
    return n;
  });
  uint64_t hits = handler.cache().hits() - hits0, misses = handler.cache().misses() - misses0;
  fmt::print(
      "note command: state cache hit rate {:.4f} ({} hits, {} misses), {} snapshots written\n",
      hits + misses ? double(hits) / double(hits + misses) : 0.0, hits, misses,
      handler.snapshots_written());
  PrintResult("command", value, baseline);
  return 0;
}

}  // namespace procedo::bench
