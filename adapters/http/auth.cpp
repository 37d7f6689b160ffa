#include "adapters/http/auth.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <jwt.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace procedo::http {

Result<std::unique_ptr<Authenticator>> Authenticator::Create(AuthOptions options) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(options)));
  for (const auto& f : a->options_.jwt_public_key_files) {
    std::ifstream in(f);
    if (!in) {
      return Status::InvalidArgument(fmt::format(
          "cannot read the JWT public key '{}': fix auth.jwt_public_keys or create the key "
          "with `procedo token`", f));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    a->public_keys_.push_back(ss.str());
  }
  auto keys = ApiKeyRing::Load(a->options_.api_keys_file);
  if (!keys.ok()) return keys.status();
  a->api_keys_ = std::move(keys).value();
  return a;
}

Status Authenticator::ReloadApiKeys() {
  return api_keys_->Reload();
}

std::variant<Principal, Response> Authenticator::Fail(const Request& req, const std::string& detail) {
  std::lock_guard lock(mu_);
  auto now = options_.clock->Now();
  auto& f = failures_[req.remote];
  if (now - f.window_start > options_.failure_window) f = Failures{0, now};
  ++f.count;
  if (failures_.size() > 100'000) failures_.clear();  // bounded memory under a spray of peers
  Response r = Response::FromProblem(Problem::Unauthenticated(detail));
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::variant<Principal, Response> Authenticator::Authenticate(const Request& req) {
  {
    std::lock_guard lock(mu_);
    auto it = failures_.find(req.remote);
    if (it != failures_.end() && it->second.count >= options_.max_failures &&
        options_.clock->Now() - it->second.window_start <= options_.failure_window) {
      auto wait = options_.failure_window - (options_.clock->Now() - it->second.window_start);
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1;
      Response r = Response::Problem(
          429, "too-many-failed-authentications", "Too many failed authentications",
          fmt::format("{} failed attempts from {}; retry in {} s", it->second.count, req.remote, secs));
      r.headers.emplace_back("Retry-After", std::to_string(secs));
      return r;
    }
  }
  if (auto key = req.Header("x-api-key")) return FromApiKey(req, *key);
  auto h = req.Header("authorization");
  if (!h) return Fail(req, "send 'Authorization: Bearer <JWT>' (staff) or 'X-API-Key' (integrators)");
  if (h->rfind("Bearer ", 0) == 0) return FromJwt(req, h->substr(7));
  if (h->rfind("ApiKey ", 0) == 0) return FromApiKey(req, h->substr(7));
  return Fail(req, "the Authorization scheme must be Bearer or ApiKey");
}

std::variant<Principal, Response> Authenticator::FromApiKey(const Request& req, const std::string& key) {
  if (auto who = api_keys_->Find(key)) return *who;
  return Fail(req, ApiKeyRing::kUnknownKey);
}

std::variant<Principal, Response> Authenticator::FromJwt(const Request& req, const std::string& token) {
  if (public_keys_.empty()) return Fail(req, "this server accepts no JWTs: no public key is configured");
  const auto now_secs = std::chrono::duration_cast<std::chrono::seconds>(
                            options_.clock->Now().time_since_epoch()).count();
  {
    std::lock_guard lock(mu_);
    auto it = verified_.find(token);
    if (it != verified_.end()) {
      if (it->second.exp >= now_secs) return it->second.who;
      verified_.erase(it);
    }
  }
  for (const auto& pem : public_keys_) {
    jwt_t* jwt = nullptr;
    int rc = jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(pem.data()),
                        static_cast<int>(pem.size()));
    if (rc != 0 || jwt == nullptr) continue;
    std::unique_ptr<jwt_t, decltype(&jwt_free)> guard(jwt, jwt_free);
    // Only asymmetric algorithms: an HS256 token "signed" with the public key as its secret
    // would otherwise verify (algorithm confusion).
    jwt_alg_t alg = jwt_get_alg(jwt);
    if (alg != JWT_ALG_RS256 && alg != JWT_ALG_ES256) {
      return Fail(req, "the token must be signed with RS256 or ES256");
    }
    auto claim = [&](const char* name) {
      const char* v = jwt_get_grant(jwt, name);
      return std::string(v ? v : "");
    };
    errno = 0;
    long exp = jwt_get_grant_int(jwt, "exp");
    if (errno == ENOENT || exp <= 0) return Fail(req, "the token has no 'exp' claim");
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   options_.clock->Now().time_since_epoch()).count();
    if (exp < now) return Fail(req, "the token has expired; get a new one");
    errno = 0;
    long nbf = jwt_get_grant_int(jwt, "nbf");
    if (errno != ENOENT && nbf > now + 60) return Fail(req, "the token is not valid yet");
    if (!options_.issuer.empty() && claim("iss") != options_.issuer) {
      return Fail(req, fmt::format("the token's issuer must be '{}'", options_.issuer));
    }
    Principal p{claim("sub"), claim("role"), claim("tenant")};
    const auto& roles = domain::Roles();
    if (p.id.empty() || !roles.count(p.role)) {
      return Fail(req, "the token needs a 'sub' and a 'role' among: " + fmt::format("{}", fmt::join(roles, ", ")));
    }
    if (p.tenant.empty() && !domain::IsAdmin(p)) return Fail(req, "the token needs a 'tenant' claim");
    std::lock_guard lock(mu_);
    if (verified_.size() >= 100'000) verified_.clear();  // bounded; refills with live tokens
    verified_[token] = Verified{p, exp};
    return p;
  }
  return Fail(req, "the token does not verify against any configured key");
}

}  // namespace procedo::http
