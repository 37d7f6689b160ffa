// A local EC P-256 key pair so that a newcomer can mint tokens and try the API without an
// identity provider. Never for production: production configures auth.jwt_public_keys.
#pragma once

#include <string>

#include "engine/base/clock.h"
#include "engine/base/status.h"

namespace procedo::http {

struct DevKeys {
  std::string private_pem_file;
  std::string public_pem_file;
};

// Creates the pair under `dir` unless it exists.
Result<DevKeys> EnsureDevKeys(const std::string& dir);

// An ES256 token for (subject, role, tenant) valid for `ttl` from `now`.
Result<std::string> IssueToken(const std::string& private_pem_file, const std::string& subject,
                               const std::string& role, const std::string& tenant,
                               std::chrono::seconds ttl, TimePoint now,
                               const std::string& issuer = "");

}  // namespace procedo::http
