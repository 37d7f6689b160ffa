#include "adapters/http/auth.h"

#include "adapters/http/jwt.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/sha.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace procedo::http {

namespace {

int64_t MTime(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  return ec ? -1 : static_cast<int64_t>(t.time_since_epoch().count());
}

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::Create(AuthOptions options) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(options)));
  auto keys = ApiKeyRing::Load(a->options_.api_keys_file);
  if (!keys.ok()) return keys.status();
  a->api_keys_ = std::move(keys).value();
  if (Status s = a->Reload(); !s.ok()) return s;
  return a;
}

std::vector<std::string> Authenticator::KeyFiles() const {
  std::vector<std::string> files = options_.jwt_public_key_files;
  files.insert(files.end(), options_.optional_key_files.begin(), options_.optional_key_files.end());
  if (!options_.api_keys_file.empty()) files.push_back(options_.api_keys_file);
  return files;
}

Status Authenticator::Reload() {
  std::vector<std::string> pems;
  auto read = [&pems](const std::string& f) -> Status {
    std::ifstream in(f);
    if (!in) {
      return Status::InvalidArgument(fmt::format(
          "cannot read the JWT public key '{}': fix auth.jwt_public_keys or create the key "
          "with `procedo token`", f));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    pems.push_back(ss.str());
    return Status::Ok();
  };
  for (const auto& f : options_.jwt_public_key_files) {
    if (Status s = read(f); !s.ok()) return s;
  }
  for (const auto& f : options_.optional_key_files) {
    if (std::filesystem::exists(f)) {
      if (Status s = read(f); !s.ok()) return s;
    }
  }
  if (Status s = api_keys_->Reload(); !s.ok()) return s;
  std::map<std::string, int64_t> mtimes;
  for (const auto& f : KeyFiles()) mtimes[f] = MTime(f);
  std::lock_guard lock(mu_);
  // A key taken out (rotated after a leak) must refuse its tokens now, not when they expire.
  if (pems != public_keys_) verified_.clear();
  public_keys_ = std::move(pems);
  mtimes_ = std::move(mtimes);
  return Status::Ok();
}

void Authenticator::ReloadIfChanged() {
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_look_ < std::chrono::seconds(1)) return;
    last_look_ = now;
    bool changed = false;
    for (const auto& [f, t] : mtimes_) changed = changed || MTime(f) != t;
    if (!changed) return;
  }
  // A half-written file fails to load and keeps what was there; the next look tries again.
  (void)Reload();
}

namespace {

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Failures are keyed by a digest of the credential, so the map never holds one in clear.
std::string CredentialKey(const std::string& credential) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(credential.data()), credential.size(), digest);
  std::string hex;
  for (int i = 0; i < 16; ++i) hex += fmt::format("{:02x}", digest[i]);
  return "c:" + hex;
}

}  // namespace

std::string Authenticator::ClientAddress(const Request& req) const {
  const auto& trusted = options_.trusted_proxies;
  auto is_trusted = [&trusted](const std::string& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  if (!is_trusted(req.remote)) return req.remote;
  auto forwarded = req.Header("x-forwarded-for");
  if (!forwarded) return req.remote;
  // Each proxy appends the address it received from: walk back from the right past our own.
  std::vector<std::string> hops;
  std::stringstream ss(*forwarded);
  for (std::string hop; std::getline(ss, hop, ',');) hops.push_back(Trim(hop));
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!it->empty() && !is_trusted(*it)) return *it;
  }
  return req.remote;
}

std::optional<Response> Authenticator::Throttled(const std::string& key, int limit,
                                                 const std::string& who) {
  auto it = failures_.find(key);
  const TimePoint now = options_.clock->Now();
  if (it == failures_.end() || it->second.count < limit ||
      now - it->second.window_start > options_.failure_window) {
    return std::nullopt;
  }
  auto wait = options_.failure_window - (now - it->second.window_start);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1;
  Response r = Response::Problem(
      429, "too-many-failed-authentications", "Too many failed authentications",
      fmt::format("{} failed attempts from {} within {} s; valid credentials are still accepted, "
                  "failing ones again in {} s",
                  it->second.count, who, options_.failure_window.count(), secs));
  r.headers.emplace_back("Retry-After", std::to_string(secs));
  return r;
}

std::variant<Principal, Response> Authenticator::Fail(const Request& req,
                                                      const std::string& credential,
                                                      const std::string& detail) {
  std::lock_guard lock(mu_);
  const TimePoint now = options_.clock->Now();
  if (failures_.size() > 100'000) failures_.clear();  // bounded memory under a spray of peers
  const std::string address = "a:" + ClientAddress(req);
  std::vector<std::string> keys = {address};
  if (!credential.empty()) keys.push_back(CredentialKey(credential));
  // Over the limit: this failure comes after `limit` others within the window.
  std::vector<bool> over;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& f = failures_[keys[i]];
    if (now - f.window_start > options_.failure_window) f = Failures{0, now};
    over.push_back(f.count >= (i == 0 ? options_.max_failures
                                      : options_.max_failures_per_credential));
    ++f.count;
  }
  if (over[0]) return *Throttled(address, 1, address.substr(2));
  if (over.size() > 1 && over[1]) return *Throttled(keys[1], 1, "this credential");
  Response r = Response::FromProblem(Problem::Unauthenticated(detail));
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::variant<Principal, Response> Authenticator::Authenticate(const Request& req) {
  if (auto key = req.Header("x-api-key")) return FromApiKey(req, *key);
  auto h = req.Header("authorization");
  if (!h) {
    return Fail(req, "", "send 'Authorization: Bearer <JWT>' (staff) or 'X-API-Key' (integrators)");
  }
  if (h->rfind("Bearer ", 0) == 0) return FromJwt(req, h->substr(7));
  if (h->rfind("ApiKey ", 0) == 0) return FromApiKey(req, h->substr(7));
  return Fail(req, *h, "the Authorization scheme must be Bearer or ApiKey");
}

std::variant<Principal, Response> Authenticator::FromApiKey(const Request& req, const std::string& key) {
  if (auto who = api_keys_->Find(key)) return *who;
  ReloadIfChanged();  // a key created since the last load
  if (auto who = api_keys_->Find(key)) return *who;
  return Fail(req, key, ApiKeyRing::kUnknownKey);
}

std::variant<Principal, Response> Authenticator::FromJwt(const Request& req,
                                                         const std::string& token, bool retried) {
  const auto now_secs = std::chrono::duration_cast<std::chrono::seconds>(
                            options_.clock->Now().time_since_epoch()).count();
  // A token verified before, with the keys loaded now (a reload that changes them forgets every
  // verified token): answered without copying the keys, which every command's request would.
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (it->second.exp >= now_secs) return it->second.who;
      verified_.erase(it);
    }
  }
  std::vector<std::string> public_keys;
  bool throttled = false;
  {
    std::lock_guard lock(mu_);
    public_keys = public_keys_;
  }
  if (public_keys.empty()) {
    ReloadIfChanged();  // the development key, created since the start
    std::lock_guard lock(mu_);
    public_keys = public_keys_;
  }
  if (public_keys.empty()) {
    return Fail(req, token, "this server accepts no JWTs: no public key is configured");
  }
  {
    std::lock_guard lock(mu_);
    // A token that failed again and again is not verified again (verifying costs the most):
    // it is one more failing attempt, answered 429.
    if (Throttled(CredentialKey(token), options_.max_failures_per_credential, "")) {
      throttled = true;
    }
  }
  if (throttled) return Fail(req, token, "the token failed too often");
  JwtRules rules;
  rules.issuer = options_.issuer;
  rules.now = options_.clock->Now();
  auto verified = VerifyJwt(token, public_keys, rules);
  if (verified.ok()) {
    std::lock_guard lock(mu_);
    if (verified_.size() >= 100'000) verified_.clear();  // bounded; refills with live tokens
    // Not when a reload changed the keys while this one verified: it forgot the tokens it had.
    if (public_keys == public_keys_) verified_[token] = Verified{verified->who, verified->exp};
    return verified->who;
  }
  if (verified.status().code() != Status::Code::kNotFound) {
    return Fail(req, token, verified.status().message());
  }
  // A key file that changed (a rotated key, a development key made anew) is read again once.
  if (!retried) {
    ReloadIfChanged();
    return FromJwt(req, token, true);
  }
  return Fail(req, token, "the token does not verify against any configured key");
}

}  // namespace procedo::http
