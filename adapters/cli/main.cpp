// `procedo`: the one executable. Subcommands are listed by `procedo --help`.
#include <fmt/format.h>

#include "adapters/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Procedo: event-sourced workflow engine for public administrations"};
  app.require_subcommand(1);
  procedo::cli::GlobalOptions g;
  app.add_option("-c,--config", g.config_path,
                 "TOML configuration file (default: none; PROCEDO_* variables still apply)");
  int exit_code = 0;
  procedo::cli::RegisterServe(app, g, &exit_code);
  procedo::cli::RegisterVerify(app, g, &exit_code);
  procedo::cli::RegisterLog(app, g, &exit_code);
  procedo::cli::RegisterToken(app, g, &exit_code);
  procedo::cli::RegisterApiKey(app, g, &exit_code);
  procedo::cli::RegisterCalendar(app, g, &exit_code);
  procedo::cli::RegisterRebuild(app, g, &exit_code);
  procedo::cli::RegisterExchange(app, g, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
