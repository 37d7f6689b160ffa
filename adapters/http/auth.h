// Who is calling: staff with a bearer JWT (RS256/ES256, verified against configured public
// keys), integrators with an API key stored hashed. Failed attempts are rate-limited per peer.
#pragma once

#include <map>
#include <mutex>
#include <unordered_map>
#include <string>
#include <variant>
#include <vector>

#include "adapters/api_keys.h"
#include "adapters/http/http.h"
#include "domain/access.h"
#include "engine/base/clock.h"

namespace procedo::http {

using procedo::Principal;

struct AuthOptions {
  std::vector<std::string> jwt_public_key_files;  // PEM (RSA or EC P-256)
  std::string api_keys_file;                      // JSON, see api_keys.h; may be absent
  std::string issuer;                             // required `iss` when not empty
  int max_failures = 10;                          // per peer within `failure_window`
  std::chrono::seconds failure_window{60};
  const Clock* clock = &SystemClock::Instance();
};

class Authenticator {
 public:
  // Errors: an unreadable key file. A missing API key file means no integrators yet.
  static Result<std::unique_ptr<Authenticator>> Create(AuthOptions options);

  // A Principal, or the 401/429 problem to answer with.
  std::variant<Principal, Response> Authenticate(const Request& req);
  // Re-reads the API key file (after `procedo apikey create`).
  Status ReloadApiKeys();
  // The integrators' keys, for the other channels that accept them (Kafka commands).
  std::shared_ptr<const ApiKeyRing> api_keys() const { return api_keys_; }


 private:
  explicit Authenticator(AuthOptions options) : options_(std::move(options)) {}
  std::variant<Principal, Response> Fail(const Request& req, const std::string& detail);
  std::variant<Principal, Response> FromJwt(const Request& req, const std::string& token);
  std::variant<Principal, Response> FromApiKey(const Request& req, const std::string& key);

  AuthOptions options_;
  std::vector<std::string> public_keys_;  // PEM text
  std::shared_ptr<ApiKeyRing> api_keys_;
  std::mutex mu_;
  struct Failures {
    int count = 0;
    TimePoint window_start;
  };
  std::map<std::string, Failures> failures_;
  // Verified tokens: OpenSSL 3 parses the PEM key and verifies ECDSA/RSA in ~hundreds of µs under
  // a global lock, which capped the API at a few thousand requests/s. The same bytes verify the
  // same way until `exp`, so a verified token is remembered until then.
  struct Verified {
    Principal who;
    int64_t exp = 0;
  };
  std::unordered_map<std::string, Verified> verified_;
};

}  // namespace procedo::http
