// Who is calling: staff with a bearer JWT (RS256/ES256, verified against configured public
// keys), integrators with an API key stored hashed. Failing attempts are throttled, per client
// address and per credential; valid credentials are never refused because of anyone's failures
// (offices reach the server through one proxy or NAT address).
#pragma once

#include <map>
#include <optional>
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
  // Read when present, now or later: the development key `procedo token` creates.
  std::vector<std::string> optional_key_files;
  std::string api_keys_file;                      // JSON, see api_keys.h; may be absent
  std::string issuer;                             // required `iss` when not empty
  // Failing attempts within `failure_window` after which further failing attempts get 429: per
  // client address, and per credential (the same bad token or key sent again and again).
  int max_failures = 10;
  int max_failures_per_credential = 3;
  std::chrono::seconds failure_window{60};
  // Peers whose X-Forwarded-For is believed (reverse proxies): for them, the client address is
  // the right-most address of the header that is not itself a trusted proxy.
  std::vector<std::string> trusted_proxies;
  const Clock* clock = &SystemClock::Instance();
};

class Authenticator {
 public:
  // Errors: an unreadable key file. A missing API key file means no integrators yet.
  static Result<std::unique_ptr<Authenticator>> Create(AuthOptions options);

  // A Principal, or the 401/429 problem to answer with.
  std::variant<Principal, Response> Authenticate(const Request& req);
  // Re-reads the public keys and the API key file (SIGHUP; and by itself when a credential does
  // not verify and a file changed, so `procedo apikey create` or `procedo token` take effect
  // without a restart). A file that became unreadable keeps what was loaded and is an error.
  Status Reload();
  // The integrators' keys, for the other channels that accept them (Kafka commands).
  std::shared_ptr<const ApiKeyRing> api_keys() const { return api_keys_; }


 private:
  explicit Authenticator(AuthOptions options) : options_(std::move(options)) {}
  // The address failures are counted against: the peer, or behind a trusted proxy, the client.
  std::string ClientAddress(const Request& req) const;
  // Counts a failing attempt; 429 once the address or the credential is over its limit, else 401.
  std::variant<Principal, Response> Fail(const Request& req, const std::string& credential,
                                         const std::string& detail);
  std::variant<Principal, Response> FromJwt(const Request& req, const std::string& token,
                                            bool retried = false);
  std::variant<Principal, Response> FromApiKey(const Request& req, const std::string& key);
  // The 429 for a key of failures_ over `limit`, or nullopt.
  std::optional<Response> Throttled(const std::string& key, int limit, const std::string& who);

  // Reloads when a key file changed since the last look, at most once a second.
  void ReloadIfChanged();
  std::vector<std::string> KeyFiles() const;

  AuthOptions options_;
  std::vector<std::string> public_keys_;  // PEM text, guarded by mu_
  // The key files' modification times at the last load, and when they were last looked at.
  std::map<std::string, int64_t> mtimes_;
  std::chrono::steady_clock::time_point last_look_{};
  std::shared_ptr<ApiKeyRing> api_keys_;
  std::mutex mu_;
  struct Failures {
    int count = 0;
    TimePoint window_start;
  };
  // "a:<address>" and "c:<SHA-256 of the credential>" -> failing attempts in the window.
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
