// `procedo import FILE`: records of the exchange layout (schemas/exchange.xsd) made in another
// system, sent as the same commands staff send (serve stopped, as for `procedo log`; a running
// server takes the same file on POST /v1/imports). `procedo export enrolments`: the submitted
// applications in that layout.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "adapters/cli/commands.h"
#include "adapters/cli/common.h"
#include "adapters/exchange/exchange.h"
#include "domain/procedures.h"

namespace procedo::cli {
namespace {

struct ImportOptions {
  std::string file;
  std::string tenant;
  std::string by = "procedo-import";
  bool json = false;
};

void RunImport(const GlobalOptions& g, const ImportOptions& o, int* exit_code) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    *exit_code = Fail(Status::InvalidArgument(
        fmt::format("cannot read {}: check the path and that it is a file", o.file)));
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto cfg = Load(g);
  if (!cfg.ok()) return void(*exit_code = Fail(cfg.status()));
  auto domain = domain::LoadDomain(cfg->domain_dir, cfg->schemas_dir);
  if (!domain.ok()) return void(*exit_code = Fail(domain.status()));
  auto schema = exchange::ExchangeSchema::Load(cfg->schemas_dir + "/exchange.xsd");
  if (!schema.ok()) return void(*exit_code = Fail(schema.status()));
  auto log = OpenLog(*cfg);
  if (!log.ok()) return void(*exit_code = Fail(log.status()));
  CommandHandler handler(**log, (*domain)->workflows, (*domain)->events, nullptr);
  exchange::ImportOptions options{Actor{o.by, "operator", o.tenant}};
  auto report = exchange::Import(text.str(), **schema, *(*domain)->services, handler, options);
  if (!report.ok()) return void(*exit_code = Fail(report.status()));
  if (o.json) {
    fmt::print("{}\n", exchange::ReportJson(*report).dump(2));
  } else {
    fmt::print("{} records: {} imported, {} already imported, {} refused\n", report->records,
               report->applied, report->unchanged, report->problems.size());
    for (const auto& p : report->problems) {
      fmt::print("line {}: {}: {}\n", p.line, p.record, p.reason);
    }
  }
  // Refused records are the file's problem: exit 2, like any bad input.
  *exit_code = report->problems.empty() ? 0 : 2;
}

struct ExportOptions {
  std::string tenant;
  std::string service;
  std::string out;
};

void RunExport(const GlobalOptions& g, const ExportOptions& o, int* exit_code) {
  auto cfg = Load(g);
  if (!cfg.ok()) return void(*exit_code = Fail(cfg.status()));
  auto log = OpenLog(*cfg);
  if (!log.ok()) return void(*exit_code = Fail(log.status()));
  auto personal = OpenPersonalKeys(*cfg, **log);
  if (!personal.ok()) return void(*exit_code = Fail(personal.status()));
  auto xml = exchange::ExportEnrolments(**log, o.tenant, o.service, personal->data.get());
  if (!xml.ok()) return void(*exit_code = Fail(xml.status()));
  if (o.out.empty()) {
    std::cout << *xml;
    return;
  }
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  out << *xml;
  if (!out.flush()) {
    *exit_code = Fail(Status::IoError(fmt::format("cannot write {}", o.out)));
  }
}

}  // namespace

void RegisterExchange(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto io = std::make_shared<ImportOptions>();
  auto* imp = app.add_subcommand(
      "import", "import enrolments, uses and payments made elsewhere (schemas/exchange.xsd)");
  imp->add_option("file", io->file, "the exchange document")->required();
  imp->add_option("--tenant", io->tenant, "the tenant whose staff imports (the document's)")
      ->required();
  imp->add_option("--by", io->by, "who imports: the events' actor id");
  imp->add_flag("--json", io->json, "print the report as JSON");
  imp->callback([&g, io, exit_code] { RunImport(g, *io, exit_code); });

  auto eo = std::make_shared<ExportOptions>();
  auto* exp = app.add_subcommand("export", "export in the exchange layout");
  auto* enr = exp->add_subcommand("enrolments", "the submitted enrolments of a tenant");
  enr->add_option("--tenant", eo->tenant, "the tenant")->required();
  enr->add_option("--service", eo->service, "only the applications for this service");
  enr->add_option("--out", eo->out, "write to this file instead of standard output");
  enr->callback([&g, eo, exit_code] { RunExport(g, *eo, exit_code); });
  exp->require_subcommand(1);
}

}  // namespace procedo::cli
