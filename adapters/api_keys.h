// Integrator API keys: `procedo apikey create` prints a key once and stores only its SHA-256
// (the keys are 256-bit random, so a fast hash is enough: nothing to brute-force).
// File: {"keys": [{"id": "...", "tenant": "...", "name": "...", "sha256": "<hex>"}]}
// Integrators present a key over HTTP (X-API-Key) and in Kafka command messages (api_key); both
// look it up in the same ApiKeyRing, so a key works, or is refused, the same way on both.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "domain/access.h"
#include "engine/base/status.h"

namespace procedo {

struct NewApiKey {
  std::string id;
  std::string secret;  // shown once
};

Result<NewApiKey> CreateApiKey(const std::string& file, const std::string& tenant,
                               const std::string& name);
std::string Sha256Hex(const std::string& text);

// The keys of one key file, held hashed. Safe to use from any thread.
class ApiKeyRing {
 public:
  // The detail of the problem for a key that is not in the ring.
  static constexpr const char* kUnknownKey =
      "the API key is not known; ask an administrator for one";

  // `file` may be empty or absent (no integrators yet); a file that is not a key file is an
  // error naming it.
  static Result<std::shared_ptr<ApiKeyRing>> Load(std::string file);
  // Re-reads the file (after `procedo apikey create`).
  Status Reload();
  // The integrator a key belongs to, or nullopt for an unknown key.
  std::optional<Principal> Find(const std::string& secret) const;

 private:
  explicit ApiKeyRing(std::string file) : file_(std::move(file)) {}
  std::string file_;
  mutable std::mutex mu_;
  std::map<std::string, Principal> keys_;  // sha256 hex -> principal
};

}  // namespace procedo
