#pragma once

#include <nlohmann/json.hpp>

#include "engine/log/event.h"

namespace procedo {

// The envelope as integrators see it over HTTP, SSE and the CLI.
nlohmann::json EventToJson(const Event& e);

}  // namespace procedo
