// What the subcommands share: configuration, opening the log, reporting a failure.
#pragma once

#include <memory>

#include "adapters/cli/commands.h"
#include "adapters/config.h"
#include "engine/crypto/personal.h"
#include "engine/log/log_store.h"

namespace procedo::cli {

Result<Config> Load(const GlobalOptions& g);
// `clock` (null: the system clock) stamps the events' times.
Result<std::unique_ptr<LogStore>> OpenLog(const Config& c, const Clock* clock = nullptr);
// The subjects' keys and the sealing of personal data, when personal.master_key_file is set
// (both null otherwise: personal fields are kept as given).
struct PersonalKeys {
  std::unique_ptr<crypto::SubjectKeyStore> keys;
  std::unique_ptr<crypto::PersonalData> data;
};
// The keys live beside the events, in the log's side table: `log` outlives what this returns.
Result<PersonalKeys> OpenPersonalKeys(const Config& c, LogStore& log);
// Prints the status on stderr; returns the exit code: 2 for bad input, 1 otherwise.
int Fail(const Status& s);
// A fatal signal (a crash) writes a backtrace to stderr before the default action.
void ReportFatalSignals();

}  // namespace procedo::cli
