#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace procedo::cli {

struct GlobalOptions {
  std::string config_path;
};

// Each Register* adds a subcommand whose callback sets the process exit code.
void RegisterServe(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterVerify(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterLog(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterToken(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterApiKey(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterCalendar(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterRebuild(CLI::App& app, const GlobalOptions& g, int* exit_code);
void RegisterExchange(CLI::App& app, const GlobalOptions& g, int* exit_code);

}  // namespace procedo::cli
