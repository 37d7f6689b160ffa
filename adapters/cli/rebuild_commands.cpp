// `procedo rebuild NAME|all` and `procedo rebuild --list`: drop a projection and fold the whole
// log into it again, offline (the server must be stopped: RocksDB lets one process hold the data).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "adapters/cli/commands.h"
#include "adapters/cli/common.h"
#include "domain/calendars.h"
#include "domain/procedures.h"
#include "engine/views/projection.h"
#include "projections/views/knowledge_base.h"
#include "projections/views/projections.h"

namespace procedo::cli {
namespace {

// RocksDB's message for a directory another process holds ("lock hold by current process",
// "While lock file ... Resource temporarily unavailable").
Status Explain(const Status& s, const std::string& what) {
  const std::string& m = s.message();
  if (m.find("lock") != std::string::npos || m.find("LOCK") != std::string::npos ||
      m.find("Resource temporarily unavailable") != std::string::npos) {
    return Status::Unavailable(fmt::format(
        "the {} is in use by another procedo process (is `procedo serve` running on this data "
        "directory?); stop the server, run the rebuild, then start the server again",
        what));
  }
  return s;
}

class ProgressBar {
 public:
  void Update(uint64_t position, uint64_t head) {
    auto now = std::chrono::steady_clock::now();
    if (position < head && now - last_ < std::chrono::milliseconds(100)) return;
    if (position >= head && complete_) return;  // the 100% line once
    complete_ = position >= head;
    last_ = now;
    constexpr int kWidth = 40;
    const double f = head == 0 ? 1.0 : static_cast<double>(position) / static_cast<double>(head);
    const int filled = static_cast<int>(f * kWidth);
    fmt::print(stderr, "\r  [{}{}] {:5.1f}%  {}/{} events", std::string(filled, '#'),
               std::string(kWidth - filled, '.'), 100.0 * f, position, head);
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  bool complete_ = false;
};

// The knowledge base keeps its own index (a Xapian database): dropped and folded again.
int RebuildKb(const Config& cfg, const LogStore& log) {
  const std::string dir = cfg.KbPath();
  fmt::print(stderr, "rebuilding {} from position 0\n", procedo::projections::KnowledgeBase::kName);
  const auto start = std::chrono::steady_clock::now();
  if (Status s = procedo::projections::KbIndex::Remove(dir); !s.ok()) return Fail(s);
  auto kb = procedo::projections::KnowledgeBase::Open(log, dir);
  if (!kb.ok()) return Fail(Explain(kb.status(), "knowledge base"));
  if (Status s = (*kb)->CatchUp(); !s.ok()) return Fail(s);
  auto docs = (*kb)->DocumentCount();
  if (!docs.ok()) return Fail(docs.status());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(stderr, "rebuilt {}: {} events, {} archived tickets in {:.2f} s\n",
             procedo::projections::KnowledgeBase::kName, (*kb)->position(), *docs, secs);
  return 0;
}

int Rebuild(const Config& cfg, const std::string& name, bool list) {
  auto domain = domain::LoadDomain(cfg.domain_dir, cfg.schemas_dir);
  if (!domain.ok()) return Fail(domain.status());
  auto calendars = domain::CalendarCatalog::LoadDomain(cfg.domain_dir);
  if (!calendars.ok()) return Fail(calendars.status());
  procedo::projections::ProjectionSet set((*domain)->workflows, *calendars);

  auto log = OpenLog(cfg);
  if (!log.ok()) return Fail(Explain(log.status(), "event log"));
  auto views = ViewStore::Open(cfg.ViewsPath(), set.Names());
  if (!views.ok()) return Fail(Explain(views.status(), "view store"));

  if (list) {
    const uint64_t head = (*log)->LastPosition();
    for (const auto& n : set.Names()) {
      fmt::print("{:<16} at position {} of {}\n", n, (*views)->Checkpoint(n), head);
    }
    auto kb = procedo::projections::KnowledgeBase::Open(**log, cfg.KbPath());
    if (!kb.ok()) return Fail(Explain(kb.status(), "knowledge base"));
    fmt::print("{:<16} at position {} of {}\n", (*kb)->name(), (*kb)->position(), head);
    return 0;
  }
  const bool kb = name == "all" || name == procedo::projections::KnowledgeBase::kName;
  std::vector<Projection*> targets;
  if (name == "all") {
    targets = set.All();
  } else if (Projection* p = set.Find(name)) {
    targets.push_back(p);
  } else if (!kb) {
    return Fail(Status::InvalidArgument(fmt::format(
        "no projection named '{}'; `procedo rebuild --list` shows them (or rebuild all)", name)));
  }
  for (Projection* p : targets) {
    if (Status s = (*views)->Drop(p->name()); !s.ok()) return Fail(s);
    ProjectionRunner runner(**log, **views, {p});
    ProgressBar bar;
    fmt::print(stderr, "rebuilding {} from position 0\n", p->name());
    const auto start = std::chrono::steady_clock::now();
    if (Status s = runner.CatchUp([&bar](uint64_t pos, uint64_t head) { bar.Update(pos, head); });
        !s.ok()) {
      fmt::print(stderr, "\n");
      return Fail(s);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t n = runner.position();
    bar.Update(n, n);
    fmt::print(stderr, "\nrebuilt {}: {} events in {:.2f} s ({:.0f} events/s)\n", p->name(), n,
               secs, secs > 0 ? static_cast<double>(n) / secs : 0.0);
  }
  if (kb) return RebuildKb(cfg, **log);
  return 0;
}

}  // namespace

void RegisterRebuild(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "rebuild", "Drop a projection and rebuild it from position 0 (stop the server first)");
  static std::string name;
  static bool list = false;
  cmd->add_option("name", name, "projection to rebuild, or `all`");
  cmd->add_flag("--list", list, "list the projections and their checkpoints");
  cmd->callback([&g, exit_code] {
    if (!list && name.empty()) {
      *exit_code = Fail(Status::InvalidArgument(
          "name the projection to rebuild (`procedo rebuild --list` shows them) or `all`"));
      return;
    }
    auto cfg = Load(g);
    if (!cfg.ok()) {
      *exit_code = Fail(cfg.status());
      return;
    }
    *exit_code = Rebuild(*cfg, name, list);
  });
}

}  // namespace procedo::cli
