#include "adapters/http/jwt.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

namespace procedo::http {
namespace {

std::string Claim(jwt_t* jwt, const std::string& name) {
  const char* v = jwt_get_grant(jwt, name.c_str());
  return v ? v : "";
}

// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
bool AudienceHas(jwt_t* jwt, const std::string& want) {
  char* raw = jwt_get_grants_json(jwt, "aud");
  if (raw == nullptr) return false;
  auto aud = nlohmann::json::parse(raw, nullptr, false);
  free(raw);
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (!aud.is_array()) return false;
  for (const auto& a : aud) {
    if (a.is_string() && a.get<std::string>() == want) return true;
  }
  return false;
}

Result<VerifiedJwt> Check(jwt_t* jwt, const JwtRules& rules) {
  auto refuse = [](std::string why) { return Status::PermissionDenied(std::move(why)); };
  jwt_alg_t alg = jwt_get_alg(jwt);
  if (alg != JWT_ALG_RS256 && alg != JWT_ALG_ES256) {
    return refuse("the token must be signed with RS256 or ES256");
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       rules.now.time_since_epoch()).count();
  errno = 0;
  long exp = jwt_get_grant_int(jwt, "exp");
  if (errno == ENOENT || exp <= 0) return refuse("the token has no 'exp' claim");
  if (exp < now) return refuse("the token has expired; get a new one");
  errno = 0;
  long nbf = jwt_get_grant_int(jwt, "nbf");
  if (errno != ENOENT && nbf > now + 60) return refuse("the token is not valid yet");
  if (!rules.issuer.empty() && Claim(jwt, "iss") != rules.issuer) {
    return refuse(fmt::format("the token's issuer must be '{}'", rules.issuer));
  }
  if (!rules.audience.empty() && !AudienceHas(jwt, rules.audience)) {
    return refuse(fmt::format("the token is not meant for '{}' (its 'aud')", rules.audience));
  }
  if (!rules.nonce.empty() && Claim(jwt, "nonce") != rules.nonce) {
    return refuse("the token's 'nonce' is not the one this sign-in sent; sign in again");
  }
  VerifiedJwt v;
  v.who = Principal{Claim(jwt, "sub"),
                    rules.role.empty() ? Claim(jwt, rules.role_claim) : rules.role,
                    rules.tenant.empty() ? Claim(jwt, rules.tenant_claim) : rules.tenant};
  v.exp = exp;
  v.name = Claim(jwt, "name");
  for (const char* claim : {"https://attributes.eid.gov.it/fiscal_number", "fiscal_number"}) {
    std::string code = Claim(jwt, claim);
    if (code.empty()) continue;
    if (code.starts_with("TINIT-")) code = code.substr(6);
    for (char& ch : code) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    v.fiscal_code = code;
    break;
  }
  const auto& roles = domain::Roles();
  if (v.who.id.empty() || !roles.count(v.who.role)) {
    return refuse(fmt::format("the token needs a 'sub' and a '{}' among: {}", rules.role_claim,
                              fmt::join(roles, ", ")));
  }
  if (v.who.tenant.empty() && !domain::IsAdmin(v.who)) {
    return refuse(fmt::format("the token needs a '{}' claim", rules.tenant_claim));
  }
  return v;
}

std::string Base64UrlDecode(const std::string& in, bool* ok) {
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else if (c == '=') break;
    else {
      *ok = false;
      return {};
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (out.empty()) *ok = false;  // never back to true: one bad member spoils the key
  return out;
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// One JWK as an OpenSSL public key; nullptr for a key of another kind or a malformed one.
PkeyPtr FromJwk(const nlohmann::json& k) {
  PkeyPtr none(nullptr, EVP_PKEY_free);
  auto field = [&k](const char* name, bool* ok) {
    return k.contains(name) && k[name].is_string() ? Base64UrlDecode(k[name], ok)
                                                   : (*ok = false, std::string());
  };
  const std::string kty = k.value("kty", "");
  if (k.value("use", "sig") != "sig") return none;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n(nullptr, BN_free), e(nullptr, BN_free);
  const char* type = nullptr;
  std::string point;
  bool ok = true;
  if (kty == "RSA") {
    std::string nb = field("n", &ok), eb = field("e", &ok);
    if (!ok) return none;
    n.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(nb.data()), nb.size(), nullptr));
    e.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(eb.data()), eb.size(), nullptr));
    if (!n || !e || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
      return none;
    }
    type = "RSA";
  } else if (kty == "EC" && k.value("crv", "") == "P-256") {
    std::string x = field("x", &ok), y = field("y", &ok);
    if (!ok || x.size() != 32 || y.size() != 32) return none;
    point = "\x04" + x + y;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                         0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size())) {
      return none;
    }
    type = "EC";
  } else {
    return none;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
      OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return none;
  }
  return PkeyPtr(pkey, EVP_PKEY_free);
}

}  // namespace

Result<VerifiedJwt> VerifyJwt(const std::string& token, const std::vector<std::string>& pems,
                              const JwtRules& rules) {
  for (const auto& pem : pems) {
    jwt_t* jwt = nullptr;
    int rc = jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(pem.data()),
                        static_cast<int>(pem.size()));
    if (rc != 0 || jwt == nullptr) continue;
    std::unique_ptr<jwt_t, decltype(&jwt_free)> guard(jwt, jwt_free);
    return Check(jwt, rules);
  }
  return Status::NotFound("the token does not verify against any trusted key");
}

Result<std::vector<std::string>> JwksToPem(const std::string& jwks_json) {
  auto set = nlohmann::json::parse(jwks_json, nullptr, false);
  if (set.is_discarded() || !set.is_object() || !set.contains("keys") || !set["keys"].is_array()) {
    return Status::InvalidArgument(
        "the identity provider's jwks_uri did not answer a JSON Web Key Set ({\"keys\": [...]}); "
        "check the provider's configuration");
  }
  std::vector<std::string> pems;
  for (const auto& k : set["keys"]) {
    if (!k.is_object()) continue;
    PkeyPtr key = FromJwk(k);
    if (!key) continue;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) continue;
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    pems.emplace_back(data, static_cast<size_t>(len));
  }
  return pems;
}

}  // namespace procedo::http
