#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/log/event.h"

namespace procedo {

// The envelope as integrators see it over HTTP, SSE and the CLI.
nlohmann::json EventToJson(const Event& e);

// The same envelope written as JSON text, with the same keys in the same order, appended to
// `out`: data and actor go in as the log stores them (JSON the emitter wrote), so that a command's
// answer neither parses them back nor dumps them again. The text parses to EventToJson(e).
void AppendEventJson(const Event& e, std::string* out);

}  // namespace procedo
