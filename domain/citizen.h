// Seed 002, "La tua pratica on line": the citizen's credentials, lockout and opt-out as events on
// a stream per case code, and the secrets they derive from. Design notes: projections/NOTIFY.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/base/clock.h"
#include "engine/log/event.h"
#include "engine/base/status.h"

namespace procedo::domain {

// "citizen-<tenant>-<case code>", characters a stream id may not hold written as @XX. One
// stream per tenant and case code (two Comuni may use the same codes), so a login finds its
// records with one read and locks the code itself.
std::string CitizenStreamFor(const std::string& tenant, const std::string& case_code);

// The server secret (32 random bytes, file mode 0600), created on first use. Passwords, survey
// markers and session signatures derive from it.
Result<std::string> LoadOrCreateSecret(const std::string& path);

// Issue n of a case's password: HMAC-SHA256(secret, stream|n) in 12 characters of an unambiguous
// alphabet (60 bits). Deterministic so that a notifier restarted between sending and recording
// sends the same password again, never one the stored hash does not match.
std::string DerivePassword(const std::string& secret, const std::string& case_stream,
                           uint64_t issue);

// The key of a ticket's page for its requester, who has no account: HMAC-SHA256(secret,
// "ticket-key|<tenant>|<stream>") in 32 hex characters (128 bits), in every message's link. Derived
// like a password, so neither the log nor the notifier's rows hold it, and it cannot be guessed
// from the stream id, which is a counter.
std::string DeriveTicketKey(const std::string& secret, const std::string& tenant,
                            const std::string& ticket_stream);

struct PasswordHashCost {
  unsigned long long ops;
  size_t mem;
  static PasswordHashCost Interactive();
  // Only for benchmarks and tests that issue thousands of credentials.
  static PasswordHashCost Minimal();
};
// Argon2id in libsodium's string format (salt and parameters included).
Result<std::string> HashPassword(const std::string& password, PasswordHashCost cost);
bool VerifyPassword(const std::string& hash, const std::string& password);

std::string HmacSha256(const std::string& key, const std::string& message);  // raw 32 bytes
std::string ToHex(const std::string& bytes);
std::string Sha256(const std::string& bytes);  // raw 32 bytes

// What the citizen stream says about one case code: the reducer "citizen_record" of the citizen
// workflow keeps it in the state (domain/workflows/citizen.json).
struct CitizenRecord {
  struct Credentials {
    std::string case_stream;
    std::string tenant;
    uint64_t issue = 0;
    std::string hash;
  };
  std::map<std::string, Credentials> credentials;  // by case stream: the latest issue
  uint64_t lockouts = 0;                           // since the last issue of credentials
  TimePoint locked_until{};
  // Wrong passwords in a row since the last lockout, issue of credentials or successful login
  // (citizen.login_failed): durable, so a restart forgives no guess.
  uint64_t failures = 0;
  std::map<std::string, bool> opted_out;  // by case stream
  nlohmann::json ToJson() const;
  static CitizenRecord FromJson(const nlohmann::json& j);
};
void FoldCitizenEvent(CitizenRecord& record, const std::string& type, const nlohmann::json& data);

// A case.closed outcome as the citizen reads it: accolta, respinta, archiviata (else as given).
std::string OutcomeText(const std::string& outcome);

// The n-th lockout in a row lasts base * 2^(n-1), at most a day.
std::chrono::seconds LockoutDuration(std::chrono::seconds base, uint64_t n);

}  // namespace procedo::domain
