// The one rule for signed staff tokens (adapters/http/jwt.h): an identity provider's RSA key
// published as a JWKS verifies its ID tokens; audience, nonce, issuer, expiry, algorithm and the
// configured role and tenant claims are each checked.
#include <catch2/catch.hpp>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "adapters/http/jwt.h"

using namespace procedo;
using namespace procedo::http;
using std::chrono::seconds;

namespace {

std::string B64Url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

struct RsaProvider {
  std::string private_pem;
  std::string jwks;
  RsaProvider() {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    REQUIRE(key != nullptr);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> guard(key, EVP_PKEY_free);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    private_pem.assign(data, len);
    BIO_free(bio);
    auto bn = [key](const char* name) {
      BIGNUM* b = nullptr;
      EVP_PKEY_get_bn_param(key, name, &b);
      std::string bytes(BN_num_bytes(b), '\0');
      BN_bn2bin(b, reinterpret_cast<unsigned char*>(bytes.data()));
      BN_free(b);
      return B64Url(bytes);
    };
    jwks = nlohmann::json{{"keys",
                           {{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}},
                            {{"kty", "RSA"},
                             {"use", "sig"},
                             {"kid", "k1"},
                             {"n", bn(OSSL_PKEY_PARAM_RSA_N)},
                             {"e", bn(OSSL_PKEY_PARAM_RSA_E)}}}}}
               .dump();
  }
  std::string Sign(const nlohmann::json& claims) const {
    jwt_t* jwt = nullptr;
    jwt_new(&jwt);
    jwt_add_grants_json(jwt, claims.dump().c_str());
    jwt_set_alg(jwt, JWT_ALG_RS256, reinterpret_cast<const unsigned char*>(private_pem.data()),
                static_cast<int>(private_pem.size()));
    char* t = jwt_encode_str(jwt);
    std::string token(t);
    free(t);
    jwt_free(jwt);
    return token;
  }
};

}  // namespace

TEST_CASE("an ID token verifies against the provider's JWKS, with every claim checked", "[jwt]") {
  RsaProvider idp;
  auto pems = JwksToPem(idp.jwks);
  REQUIRE(pems.ok());
  REQUIRE(pems->size() == 1);  // the P-384 key is not one this product verifies with
  const int64_t now = 1'800'000'000;
  JwtRules rules;
  rules.issuer = "https://idp.example.it";
  rules.audience = "procedo";
  rules.nonce = "n-123";
  rules.role_claim = "ruolo";
  rules.tenant_claim = "ente";
  rules.now = TimePoint(seconds(now));
  nlohmann::json claims = {{"iss", "https://idp.example.it"}, {"aud", {"altro", "procedo"}},
                           {"sub", "olga"}, {"nonce", "n-123"}, {"exp", now + 300},
                           {"ruolo", "operator"}, {"ente", "comune-aosta"}, {"name", "Olga"}};
  auto ok = VerifyJwt(idp.Sign(claims), *pems, rules);
  REQUIRE(ok.ok());
  CHECK(ok->who.id == "olga");
  CHECK(ok->who.role == "operator");
  CHECK(ok->who.tenant == "comune-aosta");
  CHECK(ok->name == "Olga");
  CHECK(ok->fiscal_code.empty());  // staff: none
  // A national identity's fiscal code, as SPID and CIE name it, without its country prefix.
  for (const char* claim : {"https://attributes.eid.gov.it/fiscal_number", "fiscal_number"}) {
    auto spid = claims;
    spid[claim] = "TINIT-rssmrt80a41a326x";
    auto with = VerifyJwt(idp.Sign(spid), *pems, rules);
    REQUIRE(with.ok());
    CHECK(with->fiscal_code == "RSSMRT80A41A326X");
  }

  auto refused = [&](nlohmann::json changed) {
    auto r = VerifyJwt(idp.Sign(changed), *pems, rules);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kPermissionDenied);
    return r.status().message();
  };
  auto other_nonce = claims;
  other_nonce["nonce"] = "n-999";
  CHECK_THAT(refused(other_nonce), Catch::Contains("nonce"));
  auto other_aud = claims;
  other_aud["aud"] = "altro";
  CHECK_THAT(refused(other_aud), Catch::Contains("aud"));
  auto other_iss = claims;
  other_iss["iss"] = "https://evil.example";
  CHECK_THAT(refused(other_iss), Catch::Contains("issuer"));
  auto expired = claims;
  expired["exp"] = now - 1;
  CHECK_THAT(refused(expired), Catch::Contains("expired"));
  auto no_role = claims;
  no_role["ruolo"] = "chef";
  CHECK_THAT(refused(no_role), Catch::Contains("ruolo"));
  auto no_tenant = claims;
  no_tenant.erase("ente");
  CHECK_THAT(refused(no_tenant), Catch::Contains("ente"));

  SECTION("a token of another key is NotFound: the caller may fetch the keys again") {
    RsaProvider other;
    auto r = VerifyJwt(other.Sign(claims), *pems, rules);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kNotFound);
  }
  SECTION("a malformed key set is refused") {
    CHECK_FALSE(JwksToPem("{\"nokeys\": 1}").ok());
    CHECK_FALSE(JwksToPem("not json").ok());
  }
}
