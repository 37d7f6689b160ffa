// What the console says of a stream's hash-chain check (engine/log/verify.h's VerifyStream):
// an Italian verdict, and each event's line of the audit trail.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/log/verify.h"

namespace procedo::web {

// {ok, heading, text}: "Catena integra" and how many events were checked, or where the chain
// is broken and what to do. The engine's own account of the break is for the operators (`procedo
// verify` prints it); the page says which position, and which of the stream's events it no longer
// vouches for.
nlohmann::json AuditVerdict(const StreamVerifyReport& report);

}  // namespace procedo::web
