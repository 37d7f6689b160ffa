// verify and the log tools (append, read) of the `procedo` executable.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adapters/cli/commands.h"
#include "adapters/cli/common.h"
#include "adapters/config.h"
#include "adapters/event_json.h"
#include "domain/italian_text.h"
#include "engine/log/log_store.h"
#include "engine/log/verify.h"
#include "engine/workflow/emitter.h"

namespace procedo::cli {

Result<Config> Load(const GlobalOptions& g) {
  return LoadConfig(g.config_path, [](const char* n) { return std::getenv(n); });
}

Result<PersonalKeys> OpenPersonalKeys(const Config& c, LogStore& log) {
  PersonalKeys out;
  if (c.personal_master_key_file.empty()) return out;
  auto master = crypto::ReadMasterKey(c.personal_master_key_file);
  if (!master.ok()) return master.status();
  auto keys = crypto::SubjectKeyStore::Open(log, *master);
  if (!keys.ok()) return keys.status();
  out.keys = std::move(keys).value();
  out.data = std::make_unique<crypto::PersonalData>(*out.keys, domain::kErasedText);
  return out;
}

Result<std::unique_ptr<LogStore>> OpenLog(const Config& c, const Clock* clock) {
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot create data directory '{}': {}", c.data_dir, ec.message()));
  }
  LogOptions o;
  o.path = c.LogPath();
  o.sync = c.log_sync;
  o.max_event_bytes = static_cast<size_t>(c.log_max_event_bytes);
  if (clock != nullptr) o.clock = clock;
  return LogStore::Open(o);
}

int Fail(const Status& s) {
  fmt::print(stderr, "procedo: {}\n", s.ToString());
  return s.IsInvalidArgument() || s.IsConflict() ? 2 : 1;
}

void RegisterVerify(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cmd = app.add_subcommand("verify", "Check the hash chain, positions and stream index");
  static std::string path;
  cmd->add_option("--log", path, "log directory (default: <data_dir>/log)");
  cmd->callback([&g, exit_code] {
    std::string p = path;
    if (p.empty()) {
      auto cfg = Load(g);
      if (!cfg.ok()) {
        *exit_code = Fail(cfg.status());
        return;
      }
      p = cfg->LogPath();
    }
    auto r = VerifyLog(p, [](uint64_t n) { fmt::print(stderr, "\rverified {} events", n); });
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    if (r->ok) {
      fmt::print("ok: {} events, {} index entries, head hash {}\n", r->events_checked,
                 r->index_entries_checked, HashToHex(r->head_hash));
      *exit_code = 0;
    } else {
      fmt::print("broken at position {}: {}\n", r->first_bad_position, r->problem);
      *exit_code = 3;
    }
  });
}

void RegisterLog(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* log = app.add_subcommand("log", "Append to and read the event log directly");
  log->require_subcommand(1);

  // The operators' low-level tool: one event, outside any workflow's decision, but through the
  // same emitter as every command (schema-checked, stamped, idempotent).
  static EmitHeader req;
  static std::string type, data;
  static std::string expected = "any";
  auto* append = log->add_subcommand(
      "append", "Append one event (checked against schemas/events/<type>.json; stop serve first)");
  append->add_option("--stream", req.stream, "stream id, e.g. case-forli-1")->required();
  append->add_option("--type", type, "event type, e.g. case.started")->required();
  append->add_option("--data", data, "JSON object")->required();
  append->add_option("--tenant", req.tenant, "owning organisation");
  append->add_option("--actor", req.actor,
                     "JSON object, e.g. {\"id\":\"u1\",\"role\":\"operator\"}");
  append->add_option("--expected", expected, "any | no-stream | exists | <version>");
  append->add_option("--idempotency-key", req.idempotency_key, "makes a retry safe");
  append->callback([&g, exit_code] {
    if (expected == "any")
      req.expected = ExpectedVersion::Any();
    else if (expected == "no-stream")
      req.expected = ExpectedVersion::NoStream();
    else if (expected == "exists")
      req.expected = ExpectedVersion::StreamExists();
    else {
      char* end = nullptr;
      unsigned long long v = std::strtoull(expected.c_str(), &end, 10);
      if (expected.empty() || *end != '\0') {
        *exit_code = Fail(Status::InvalidArgument(
            "--expected must be any, no-stream, exists or a version number"));
        return;
      }
      req.expected = ExpectedVersion::Exact(v);
    }
    auto parsed = nlohmann::json::parse(data, nullptr, false);
    if (!parsed.is_object()) {
      *exit_code = Fail(Status::InvalidArgument("--data must be a JSON object"));
      return;
    }
    auto cfg = Load(g);
    if (!cfg.ok()) {
      *exit_code = Fail(cfg.status());
      return;
    }
    auto schemas = EventSchemas::LoadDir(cfg->schemas_dir + "/events");
    if (!schemas.ok()) {
      *exit_code = Fail(schemas.status());
      return;
    }
    auto store = OpenLog(*cfg);
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    auto personal = OpenPersonalKeys(*cfg, **store);
    if (!personal.ok()) {
      *exit_code = Fail(personal.status());
      return;
    }
    EventEmitter emitter(**store, *schemas, personal->data.get());
    std::vector<DecidedEvent> events{DecidedEvent{type, std::move(parsed), {}}};
    auto r = emitter.Emit(req, events);
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    for (const auto& e : r->events) std::cout << EventToJson(*e).dump() << "\n";
  });

  static uint64_t from = 1;
  static size_t limit = 100;
  static std::string stream;
  auto* read = log->add_subcommand("read", "Print events as JSON lines");
  read->add_option("--from", from, "first position (or version with --stream)");
  read->add_option("--limit", limit, "how many");
  read->add_option("--stream", stream, "read one stream instead of the whole log");
  read->callback([&g, exit_code] {
    auto cfg = Load(g);
    if (!cfg.ok()) {
      *exit_code = Fail(cfg.status());
      return;
    }
    auto store = OpenLog(*cfg);
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    auto r = stream.empty() ? (*store)->ReadAll(from, limit)
                            : (*store)->ReadStream(stream, from, Direction::kForward, limit);
    if (!r.ok()) {
      *exit_code = Fail(r.status());
      return;
    }
    for (const auto& e : r.value()) std::cout << EventToJson(e).dump() << "\n";
  });
}

}  // namespace procedo::cli
