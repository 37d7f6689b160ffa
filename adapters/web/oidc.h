// Staff sign-in with OpenID Connect (authorization code flow with PKCE, S256) against the
// organisation's identity provider, and the server-side sessions it opens. The provider is found
// by discovery (<issuer>/.well-known/openid-configuration); its ID token is verified against its
// JWKS by the same rule as the API's bearer tokens (adapters/http/jwt.h), with the sign-in's
// nonce; role and tenant come from claims whose names are configured.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/access.h"
#include "engine/base/clock.h"
#include "engine/base/status.h"

namespace procedo::web {

struct OidcOptions {
  std::string issuer;  // empty: no staff sign-in
  std::string client_id;
  std::string client_secret;
  std::string
      redirect_uri;  // where the provider sends the browser back: .../console/accesso/ritorno
  // Where the provider sends the browser after signing the person out there too (RP-initiated
  // logout): .../console/accesso/uscito. Register it with the provider.
  std::string post_logout_redirect_uri;
  std::string scopes = "openid profile";
  std::string role_claim = "role";
  std::string tenant_claim = "tenant";
  // Not empty: everyone signed in has this role, and their tenant is the one their sign-in
  // began for (Begin's `tenant`), not claims: the citizens' portal, whose identity providers
  // (SPID, CIE) vouch for a person, not for a role in an Ente.
  std::string fixed_role;
  std::chrono::seconds session_ttl{8 * 3600};
  // A sign-in started must come back within this long; its state and verifier are then dropped.
  std::chrono::seconds login_ttl{600};
  std::chrono::milliseconds timeout{10000};  // each call to the provider
  const Clock* clock = &SystemClock::Instance();
};

struct StaffSession {
  Principal who;
  std::string name;  // what the provider calls the person; shown only
  TimePoint expires;
  std::string id_token;     // the provider's, as it came: the hint of a sign-out at the provider
  std::string fiscal_code;  // a national identity's (VerifiedJwt::fiscal_code); "" for staff
};

struct SignIn {
  std::string url;    // the provider's authorization endpoint, with the request
  std::string state;  // the browser keeps it in a cookie: the callback must bring both back
};

class OidcClient {
 public:
  explicit OidcClient(OidcOptions options) : options_(std::move(options)) {}

  // A new sign-in: fresh state, nonce and PKCE verifier, kept here until the callback.
  // Unavailable when the provider's discovery document cannot be read.
  // `tenant`: the Ente the person signs in to, with fixed_role only.
  Result<SignIn> Begin(const std::string& tenant = "");
  // The provider's callback. `state` from the query must be a pending sign-in's and equal the
  // browser's cookie (else InvalidArgument: a forged or replayed callback); the code is exchanged
  // at the token endpoint (Unavailable when the provider cannot be reached, PermissionDenied when
  // it refuses) and the ID token must verify (PermissionDenied, saying why). Returns the new
  // session's id (the cookie's value) and the session.
  Result<std::pair<std::string, StaffSession>> Finish(const std::string& state,
                                                      const std::string& cookie_state,
                                                      const std::string& code);
  // The session behind a cookie, if it exists and has not expired on the injected clock.
  std::optional<StaffSession> Find(const std::string& session_id);
  // Ends the session here. When the provider offers RP-initiated logout (an
  // end_session_endpoint in its discovery document), the URL that signs the person out there
  // too, with the session's ID token as hint and post_logout_redirect_uri to come back to.
  std::optional<std::string> End(const std::string& session_id);
  std::chrono::seconds session_ttl() const { return options_.session_ttl; }
  // scheme://host[:port] of the issuer: the console's forms may lead there (the sign-out's
  // redirect to the provider is a form's navigation, which the pages' CSP form-action governs).
  std::string issuer_origin() const;

 private:
  struct Provider {
    std::string authorization_endpoint, token_endpoint, jwks_uri, issuer;
    std::string end_session_endpoint;  // empty: the provider offers no RP-initiated logout
  };
  struct Pending {
    std::string nonce, verifier;
    TimePoint expires;
    std::string tenant;
  };
  Result<Provider> Discover();
  // The provider's signing keys as PEM; fetched again when a token verifies against none.
  Result<std::vector<std::string>> Keys(const Provider& p, bool refresh);

  OidcOptions options_;
  std::mutex mu_;
  std::optional<Provider> provider_;
  std::vector<std::string> keys_;
  std::map<std::string, Pending> pending_;        // by state
  std::map<std::string, StaffSession> sessions_;  // by session id
};

}  // namespace procedo::web
