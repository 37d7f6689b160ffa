// The sign-in steps the staff console and the citizens' portal share: the redirect to the
// identity provider with the state cookie, the callback that opens a session, the sign-out here
// and at the provider, and the form-action the pages' CSP must allow for that sign-out. Each area
// gives its paths, cookies and Italian texts. The cookies are SameSite=Lax, not Strict: the
// provider's redirect back is a navigation from another site, after which a Strict cookie would
// stay behind; every form still carries a CSRF token.
#pragma once

#include <functional>
#include <string>

#include "adapters/web/oidc.h"
#include "adapters/web/site.h"

namespace procedo::web {

struct SignInArea {
  OidcClient* oidc = nullptr;  // null: sign-in is not configured
  bool secure_cookies = false;
  std::string root;            // "/console": the session cookie's path, where a sign-in lands
  std::string session_cookie;  // its name
  std::string state_cookie;    // a pending sign-in's state, under <root>/accesso
  std::string signed_out;      // where a sign-out lands when the provider offers none
  std::string name;            // in the server's log: "console", "portal"
  // The area's page for a failure (nobody signed in), and what it says when the provider does
  // not answer, when the person cancelled there, for a forged or replayed callback, and when the
  // provider's answer was refused.
  std::function<http::Response(int status, const std::string& title, const std::string& text,
                               const http::Request& req)>
      error;
  std::string unavailable, cancelled, forged, refused;
};

// "Esci" answers with a redirect to the provider's sign-out, which a form-action of this origin
// alone would stop: the provider's origin is added to the page's policy.
void AllowProviderForms(http::Response& page, const OidcClient* oidc);

// GET <root>/accesso/avvia: to the provider, with the state in a cookie. `tenant`: the Ente the
// person signs in to, for a provider client with a fixed role (OidcOptions::fixed_role).
http::Response BeginSignIn(const SignInArea& area, const http::Request& req,
                           const std::string& tenant = "");
// GET <root>/accesso/ritorno: the session's cookie and back to <root>, or the area's error page.
http::Response FinishSignIn(const SignInArea& area, const http::Request& req);
// POST <root>/esci (its CSRF already checked): the session ends here, and at the provider when it
// offers RP-initiated logout.
http::Response SignOut(const SignInArea& area, const http::Request& req);

}  // namespace procedo::web
