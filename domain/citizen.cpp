#include "domain/citizen.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/calendar/calendar.h"
#include "engine/crypto/sealed.h"

namespace procedo::domain {

std::string CitizenStreamFor(const std::string& tenant, const std::string& case_code) {
  std::string out = "citizen-" + tenant + "-";
  for (unsigned char c : case_code) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("@{:02X}", c);
    }
  }
  return out;
}

Result<std::string> LoadOrCreateSecret(const std::string& path) {
  if (std::filesystem::exists(path)) {
    std::ifstream in(path, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.size() != 32) {
      return Status::Corruption(fmt::format(
          "secret file '{}' holds {} bytes, not 32; restore it from backup (a new one would "
          "invalidate every citizen password and session)",
          path, s.size()));
    }
    return s;
  }
  if (!crypto::CryptoReady()) return Status::IoError("libsodium failed to initialise");
  std::string s(32, '\0');
  randombytes_buf(s.data(), s.size());
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::IoError(fmt::format("cannot create secret file '{}'", tmp));
  bool ok = ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError(fmt::format("cannot write secret file '{}'", path));
  }
  return s;
}

std::string HmacSha256(const std::string& key, const std::string& message) {
  unsigned char out[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256(const std::string& bytes) {
  unsigned char out[32];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<char*>(out), 32);
}

std::string ToHex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string DerivePassword(const std::string& secret, const std::string& case_stream,
                           uint64_t issue) {
  // 32 symbols, so byte % 32 is unbiased; no 0/O, 1/I/l to misread from an SMS.
  static const char* alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789a";
  std::string mac = HmacSha256(secret, fmt::format("citizen-password|{}|{}", case_stream, issue));
  std::string pw;
  for (size_t i = 0; i < 12; ++i) pw.push_back(alphabet[static_cast<unsigned char>(mac[i]) % 32]);
  return pw;
}

std::string DeriveTicketKey(const std::string& secret, const std::string& tenant,
                            const std::string& ticket_stream) {
  return ToHex(HmacSha256(secret, fmt::format("ticket-key|{}|{}", tenant, ticket_stream)))
      .substr(0, 32);
}

PasswordHashCost PasswordHashCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
PasswordHashCost PasswordHashCost::Minimal() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> HashPassword(const std::string& password, PasswordHashCost cost) {
  if (!crypto::CryptoReady()) return Status::IoError("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Unavailable("Argon2id ran out of memory; retry when the server is less loaded");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void FoldCitizenEvent(CitizenRecord& r, const std::string& type, const nlohmann::json& data) {
  if (!data.is_object()) return;
  if (type == "citizen.credentials_issued") {
    CitizenRecord::Credentials c;
    c.case_stream = data.value("case_stream", "");
    c.tenant = data.value("tenant", "");
    c.issue = data.value("issue", uint64_t{0});
    c.hash = data.value("password_hash", "");
    r.credentials[c.case_stream] = c;
    // The office has checked who asked for new credentials: the lockout series starts over.
    r.lockouts = 0;
    r.locked_until = {};
    r.failures = 0;
  } else if (type == "citizen.locked_out") {
    r.lockouts = data.value("lockout", r.lockouts + 1);
    auto until = ParseRfc3339(data.value("locked_until", ""));
    if (until.ok()) r.locked_until = *until;
    r.failures = 0;
  } else if (type == "citizen.login_failed") {
    r.failures = data.value("failures", r.failures + 1);
  } else if (type == "citizen.logged_in") {
    r.failures = 0;
  } else if (type == "citizen.opted_out") {
    r.opted_out[data.value("case_stream", "")] = true;
  }
}

nlohmann::json CitizenRecord::ToJson() const {
  nlohmann::json creds = nlohmann::json::object();
  for (const auto& [stream, c] : credentials) {
    creds[stream] = {{"tenant", c.tenant}, {"issue", c.issue}, {"hash", c.hash}};
  }
  nlohmann::json out = {{"credentials", std::move(creds)},
                        {"lockouts", lockouts},
                        {"locked_until", locked_until.time_since_epoch().count()},
                        {"failures", failures},
                        {"opted_out", nlohmann::json::array()}};
  for (const auto& [stream, yes] : opted_out) {
    if (yes) out["opted_out"].push_back(stream);
  }
  return out;
}

CitizenRecord CitizenRecord::FromJson(const nlohmann::json& j) {
  CitizenRecord r;
  if (!j.is_object()) return r;
  if (auto creds = j.find("credentials"); creds != j.end() && creds->is_object()) {
    for (auto it = creds->begin(); it != creds->end(); ++it) {
      const auto& c = it.value();
      r.credentials[it.key()] = {it.key(), c.value("tenant", ""), c.value("issue", uint64_t{0}),
                                 c.value("hash", "")};
    }
  }
  r.lockouts = j.value("lockouts", uint64_t{0});
  r.locked_until = TimePoint(Micros(j.value("locked_until", int64_t{0})));
  r.failures = j.value("failures", uint64_t{0});
  if (auto out = j.find("opted_out"); out != j.end() && out->is_array()) {
    for (const auto& s : *out) {
      if (s.is_string()) r.opted_out[s.get<std::string>()] = true;
    }
  }
  return r;
}

std::string OutcomeText(const std::string& outcome) {
  if (outcome == "accepted") return "accolta";
  if (outcome == "rejected") return "respinta";
  if (outcome == "archived") return "archiviata";
  return outcome;
}

std::chrono::seconds LockoutDuration(std::chrono::seconds base, uint64_t n) {
  std::chrono::seconds d = base;
  for (uint64_t i = 1; i < n && d < std::chrono::hours(24); ++i) d *= 2;
  return std::min<std::chrono::seconds>(d, std::chrono::hours(24));
}

}  // namespace procedo::domain
