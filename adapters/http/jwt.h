// The rule a signed staff token must pass, whoever presents it: a bearer JWT sent to the API by
// an integrator's program, or the ID token the organisation's identity provider hands the
// console's sign-in. Both come down to the same facts (an asymmetric signature by a trusted key,
// not expired, the expected issuer, a known role and a tenant), so they are checked in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/access.h"
#include "engine/base/clock.h"
#include "engine/base/status.h"

namespace procedo::http {

struct JwtRules {
  std::string issuer;    // required `iss` when not empty
  std::string audience;  // required among `aud` when not empty (an ID token: the client id)
  std::string nonce;     // required `nonce` when not empty (an ID token: the sign-in's)
  // The claims that carry the principal: identity providers name role and tenant their own way.
  std::string role_claim = "role";
  std::string tenant_claim = "tenant";
  // Not empty: the principal's role and tenant are these, not claims. The citizens' portal signs
  // in people, not roles: a national identity (SPID, CIE) names no role and no Ente.
  std::string role;
  std::string tenant;
  TimePoint now;
};

struct VerifiedJwt {
  Principal who;
  int64_t exp = 0;   // seconds since the epoch
  std::string name;  // the `name` claim, when the token has one (shown, never trusted)
  // The person's fiscal code, when a national identity's token carries it (SPID and CIE do, as
  // the claim https://attributes.eid.gov.it/fiscal_number, "TINIT-" and the code): the debtor of
  // what they ask to pay. Upper case, without the prefix; "" when absent.
  std::string fiscal_code;
};

// Verifies `token` against each PEM public key (RSA or EC P-256) in turn. Only RS256 and ES256:
// an HS256 token "signed" with a public key as its secret would otherwise verify (algorithm
// confusion). Errors: NotFound when no key verifies it (the caller may fetch its keys again and
// retry); PermissionDenied, saying what to fix, for a token signed by a key but wrong otherwise.
Result<VerifiedJwt> VerifyJwt(const std::string& token, const std::vector<std::string>& pems,
                              const JwtRules& rules);

// A JSON Web Key Set (RFC 7517) as PEM public keys, for VerifyJwt: RSA keys and EC keys on
// P-256 meant for signatures; other keys are skipped. InvalidArgument when the set is malformed.
Result<std::vector<std::string>> JwksToPem(const std::string& jwks_json);

}  // namespace procedo::http
