// What the subcommands share: configuration, opening the log, reporting a failure.
#pragma once

#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/config.h"
#include "engine/log/log_store.h"

namespace procedo::cli {

Result<Config> Load(const GlobalOptions& g);
// `clock` (null: the system clock) stamps the events' times.
Result<std::unique_ptr<LogStore>> OpenLog(const Config& c, const Clock* clock = nullptr);
// Prints the status on stderr; returns the exit code: 2 for bad input, 1 otherwise.
int Fail(const Status& s);
// A fatal signal (a crash) writes a backtrace to stderr before the default action.
void ReportFatalSignals();

}  // namespace procedo::cli
