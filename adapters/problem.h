// RFC 9457 problem details without a transport: the HTTP API sends them as
// application/problem+json, the Kafka command consumer as the value of a command result. One
// mapping from engine outcomes to problems keeps both channels answering alike.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/base/status.h"

namespace procedo {

// Problem types are short slugs published under this base.
inline constexpr const char* kProblemTypeBase = "https://procedo.dev/problems/";

struct Problem {
  int status = 500;
  std::string type;  // slug, e.g. "payload-invalid"
  std::string title;
  std::string detail;                               // what was wrong and what to do
  nlohmann::json extra = nlohmann::json::object();  // extension members: violations, guard, ...

  // {type: <base><slug>, title, status, detail, ...extra}
  nlohmann::json ToJson() const;

  // What an engine Status means to a client (400, 409 with actual_version, 409 for a reused
  // idempotency key or no place free, 422 for a missing reference, 404, 413, 403, 503, or 500).
  static Problem FromStatus(const Status& s);
  // 401: nobody could be authenticated; `detail` says which credentials to send.
  static Problem Unauthenticated(std::string detail);
};

}  // namespace procedo
