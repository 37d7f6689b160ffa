#include "adapters/web/oidc.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "adapters/http/jwt.h"
#include "engine/base/base64.h"
#include "engine/base/url.h"

namespace procedo::web {
namespace {

std::string Base64Url(const unsigned char* bytes, size_t n) {
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), n));
}

// 32 random bytes, base64url: state, nonce, PKCE verifier and session ids alike.
Result<std::string> RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status::Unavailable("the system's random generator failed; try again");
  }
  return Base64Url(bytes, sizeof bytes);
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > (1 << 20)) return 0;  // a provider's answer is small
  body->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
};

// GET `url`, or POST `form` (x-www-form-urlencoded) with `authorization` when given.
Result<Reply> Call(const std::string& url, const std::string* form,
                   const std::string& authorization, std::chrono::milliseconds timeout) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  if (!c) return Status::Unavailable("cannot start an HTTP client (libcurl)");
  Reply reply;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  if (!authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  }
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  if (form != nullptr) {
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, form->c_str());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form->size()));
  }
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  CURLcode rc = curl_easy_perform(c.get());
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Status::Unavailable(fmt::format(
        "the identity provider at {} did not answer: {}; check oidc.issuer and that the "
        "provider is reachable from this server",
        url, error[0] ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

std::string Text(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

Result<OidcClient::Provider> OidcClient::Discover() {
  {
    std::lock_guard lock(mu_);
    if (provider_) return *provider_;
  }
  std::string base = options_.issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/.well-known/openid-configuration";
  auto reply = Call(url, nullptr, "", options_.timeout);
  if (!reply.ok()) return reply.status();
  auto doc = nlohmann::json::parse(reply->body, nullptr, false);
  Provider p;
  if (reply->status == 200 && doc.is_object()) {
    p = {Text(doc, "authorization_endpoint"), Text(doc, "token_endpoint"), Text(doc, "jwks_uri"),
         Text(doc, "issuer"), Text(doc, "end_session_endpoint")};
  }
  if (p.authorization_endpoint.empty() || p.token_endpoint.empty() || p.jwks_uri.empty()) {
    return Status::Unavailable(fmt::format(
        "{} answered {} without authorization_endpoint, token_endpoint and jwks_uri; set "
        "oidc.issuer to the provider's issuer URL",
        url, reply->status));
  }
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (p.issuer != options_.issuer) {
    return Status::Unavailable(fmt::format(
        "the provider's discovery document names the issuer '{}', not '{}'; set oidc.issuer to "
        "exactly the provider's issuer",
        p.issuer, options_.issuer));
  }
  std::lock_guard lock(mu_);
  provider_ = p;
  return p;
}

Result<std::vector<std::string>> OidcClient::Keys(const Provider& p, bool refresh) {
  {
    std::lock_guard lock(mu_);
    if (!refresh && !keys_.empty()) return keys_;
  }
  auto reply = Call(p.jwks_uri, nullptr, "", options_.timeout);
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) {
    return Status::Unavailable(
        fmt::format("the provider's jwks_uri {} answered {}", p.jwks_uri, reply->status));
  }
  auto pems = http::JwksToPem(reply->body);
  if (!pems.ok()) return Status::Unavailable(pems.status().message());
  std::lock_guard lock(mu_);
  keys_ = *pems;
  return keys_;
}

Result<SignIn> OidcClient::Begin(const std::string& tenant) {
  auto p = Discover();
  if (!p.ok()) return p.status();
  auto state = RandomToken(), nonce = RandomToken(), verifier = RandomToken();
  for (const auto* r : {&state, &nonce, &verifier}) {
    if (!r->ok()) return r->status();
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier->data()), verifier->size(), digest);
  const std::string challenge = Base64Url(digest, sizeof digest);
  const TimePoint now = options_.clock->Now();
  {
    std::lock_guard lock(mu_);
    // Abandoned sign-ins are dropped as new ones start, so the map stays small.
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = it->second.expires < now ? pending_.erase(it) : std::next(it);
    }
    if (pending_.size() > 100'000) pending_.clear();
    pending_[*state] = Pending{*nonce, *verifier, now + options_.login_ttl, tenant};
  }
  const char sep = p->authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  SignIn s;
  s.state = *state;
  s.url = fmt::format(
      "{}{}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}"
      "&code_challenge={}&code_challenge_method=S256",
      p->authorization_endpoint, sep, UrlEncode(options_.client_id),
      UrlEncode(options_.redirect_uri), UrlEncode(options_.scopes), UrlEncode(*state),
      UrlEncode(*nonce), challenge);
  return s;
}

Result<std::pair<std::string, StaffSession>> OidcClient::Finish(const std::string& state,
                                                                const std::string& cookie_state,
                                                                const std::string& code) {
  Pending pending;
  const TimePoint now = options_.clock->Now();
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(state);
    if (state.empty() || it == pending_.end()) {
      return Status::InvalidArgument(
          "the callback's state belongs to no sign-in started here (forged, replayed or too "
          "old); start the sign-in again");
    }
    pending = it->second;
    pending_.erase(it);  // one use, whatever the outcome
  }
  if (cookie_state != state) {
    return Status::InvalidArgument(
        "the callback's state is not the one this browser started; start the sign-in again");
  }
  if (pending.expires < now) {
    return Status::InvalidArgument("the sign-in took too long; start it again");
  }
  if (code.empty()) {
    return Status::InvalidArgument("the callback carries no authorization code; sign in again");
  }
  auto p = Discover();
  if (!p.ok()) return p.status();
  const std::string form = fmt::format(
      "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}&client_id={}",
      UrlEncode(code), UrlEncode(options_.redirect_uri), UrlEncode(pending.verifier),
      UrlEncode(options_.client_id));
  // client_secret_basic, with id and secret form-encoded first (RFC 6749 §2.3.1).
  const std::string basic = "Basic " + Base64Encode(UrlEncode(options_.client_id) + ":" +
                                                    UrlEncode(options_.client_secret));
  auto reply = Call(p->token_endpoint, &form, basic, options_.timeout);
  if (!reply.ok()) return reply.status();
  auto tokens = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200 || !tokens.is_object() || Text(tokens, "id_token").empty()) {
    const std::string error = tokens.is_object() ? Text(tokens, "error") : "";
    return Status::PermissionDenied(
        fmt::format("the provider's token endpoint refused the code ({} {}); sign in again",
                    reply->status, error.empty() ? "without an ID token" : error));
  }
  http::JwtRules rules;
  rules.issuer = p->issuer;
  rules.audience = options_.client_id;
  rules.nonce = pending.nonce;
  rules.role_claim = options_.role_claim;
  rules.tenant_claim = options_.tenant_claim;
  if (!options_.fixed_role.empty()) {
    if (pending.tenant.empty()) {
      return Status::InvalidArgument("the sign-in named no Ente; start it from the Ente's page");
    }
    rules.role = options_.fixed_role;
    rules.tenant = pending.tenant;
  }
  rules.now = now;
  auto keys = Keys(*p, false);
  if (!keys.ok()) return keys.status();
  auto verified = http::VerifyJwt(tokens["id_token"], *keys, rules);
  if (!verified.ok() && verified.status().code() == Status::Code::kNotFound) {
    keys = Keys(*p, true);  // the provider may have rotated its keys
    if (!keys.ok()) return keys.status();
    verified = http::VerifyJwt(tokens["id_token"], *keys, rules);
  }
  if (!verified.ok()) {
    return Status::PermissionDenied("the provider's ID token was refused: " +
                                    verified.status().message());
  }
  auto id = RandomToken();
  if (!id.ok()) return id.status();
  StaffSession session{verified->who, verified->name, now + options_.session_ttl,
                       tokens["id_token"].get<std::string>(), verified->fiscal_code};
  std::lock_guard lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires < now ? sessions_.erase(it) : std::next(it);
  }
  sessions_[*id] = session;
  return std::make_pair(*id, session);
}

std::optional<StaffSession> OidcClient::Find(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= options_.clock->Now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

std::string OidcClient::issuer_origin() const {
  const std::string& i = options_.issuer;
  const size_t scheme = i.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = i.find('/', scheme + 3);
  return path == std::string::npos ? i : i.substr(0, path);
}

std::optional<std::string> OidcClient::End(const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  const std::string hint = it->second.id_token;
  sessions_.erase(it);
  // The provider was discovered at the sign-in that opened the session.
  if (!provider_ || provider_->end_session_endpoint.empty() || hint.empty()) return std::nullopt;
  const std::string& end = provider_->end_session_endpoint;
  std::string url = fmt::format("{}{}id_token_hint={}&client_id={}", end,
                                end.find('?') == std::string::npos ? '?' : '&', UrlEncode(hint),
                                UrlEncode(options_.client_id));
  if (!options_.post_logout_redirect_uri.empty()) {
    url += "&post_logout_redirect_uri=" + UrlEncode(options_.post_logout_redirect_uri);
  }
  return url;
}

}  // namespace procedo::web
