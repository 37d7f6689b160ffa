// Integrator API keys: `procedo apikey create` prints a key once and stores only its SHA-256
// (the keys are 256-bit random, so a fast hash is enough: nothing to brute-force).
// File: {"keys": [{"id": "...", "tenant": "...", "name": "...", "sha256": "<hex>"}]}
#pragma once

#include <string>

#include "engine/status.h"

namespace procedo::http {

struct NewApiKey {
  std::string id;
  std::string secret;  // shown once
};

Result<NewApiKey> CreateApiKey(const std::string& file, const std::string& tenant,
                               const std::string& name);
std::string Sha256Hex(const std::string& text);

}  // namespace procedo::http
