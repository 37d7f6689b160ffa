// One TOML file (procedo.toml); every key overridable by a PROCEDO_ environment variable named
// after its section and key (log.sync -> PROCEDO_LOG_SYNC, data_dir -> PROCEDO_DATA_DIR).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/status.h"

namespace procedo {

struct Config {
  std::string data_dir = "data";
  std::string domain_dir = "domain";  // calendars, workflows and catalogue data files
  bool log_sync = true;
  int64_t log_max_event_bytes = 1 << 20;
  std::string http_listen = "127.0.0.1:8080";

  std::string LogPath() const { return data_dir + "/log"; }
};

using EnvLookup = std::function<const char*(const char*)>;

// `path` may be empty (defaults and environment only). A missing file that was asked for, an
// unknown key, or a value of the wrong type is an error that names the key.
Result<Config> LoadConfig(const std::string& path, const EnvLookup& env);

}  // namespace procedo
