#include "adapters/web/signin_flow.h"

#include <fmt/format.h>

namespace procedo::web {

void AllowProviderForms(http::Response& page, const OidcClient* oidc) {
  const std::string provider = oidc != nullptr ? oidc->issuer_origin() : "";
  if (provider.empty() || provider.find_first_of(" ;'\"") != std::string::npos) return;
  for (auto& [name, value] : page.headers) {
    const std::string self = "form-action 'self'";
    if (name != "Content-Security-Policy") continue;
    if (auto at = value.find(self); at != std::string::npos) {
      value.insert(at + self.size(), " " + provider);
    }
  }
}

namespace {

// Why a sign-in failed is for the server's operators (the page tells the person what to do).
void Report(const SignInArea& a, const Status& s) {
  fmt::print(stderr, "procedo: {} sign-in: {}\n", a.name, s.message());
}

std::string StatePath(const SignInArea& a) {
  return a.root + "/accesso";
}

http::Response Unavailable(const SignInArea& a, const http::Request& req, const Status& s) {
  Report(a, s);
  return a.error(503, "Accesso momentaneamente non disponibile", a.unavailable, req);
}

}  // namespace

http::Response BeginSignIn(const SignInArea& a, const http::Request& req,
                           const std::string& tenant) {
  if (a.oidc == nullptr) return SeeOther(StatePath(a));
  auto s = a.oidc->Begin(tenant);
  if (!s.ok()) return Unavailable(a, req, s.status());
  http::Response r = SeeOther(s->url);
  r.headers.emplace_back("Set-Cookie", SetCookie(a.state_cookie, s->state, StatePath(a), 600,
                                                 a.secure_cookies, /*lax=*/true));
  return r;
}

http::Response FinishSignIn(const SignInArea& a, const http::Request& req) {
  if (a.oidc == nullptr) return SeeOther(StatePath(a));
  auto refused = [&](const std::string& text) {
    http::Response r = a.error(403, "Accesso non riuscito", text, req);
    r.headers.emplace_back("Set-Cookie",
                           SetCookie(a.state_cookie, "", StatePath(a), 0, a.secure_cookies, true));
    return r;
  };
  if (req.Query("error")) return refused(a.cancelled);
  auto done = a.oidc->Finish(req.Query("state").value_or(""), Cookie(req, a.state_cookie),
                             req.Query("code").value_or(""));
  if (!done.ok()) {
    switch (done.status().code()) {
      case Status::Code::kUnavailable:
        return Unavailable(a, req, done.status());
      case Status::Code::kInvalidArgument:
        return refused(a.forged);
      default:
        Report(a, done.status());
        return refused(a.refused);
    }
  }
  http::Response r = SeeOther(a.root);
  r.headers.emplace_back(
      "Set-Cookie", SetCookie(a.session_cookie, done->first, a.root, a.oidc->session_ttl().count(),
                              a.secure_cookies, true));
  r.headers.emplace_back("Set-Cookie",
                         SetCookie(a.state_cookie, "", StatePath(a), 0, a.secure_cookies, true));
  return r;
}

http::Response SignOut(const SignInArea& a, const http::Request& req) {
  std::optional<std::string> at_provider;
  if (a.oidc != nullptr) at_provider = a.oidc->End(Cookie(req, a.session_cookie));
  // Signed out here; where the provider offers it, signed out there too, so that the next
  // sign-in on this browser asks for credentials again.
  http::Response r = SeeOther(at_provider.value_or(a.signed_out));
  r.headers.emplace_back("Set-Cookie",
                         SetCookie(a.session_cookie, "", a.root, 0, a.secure_cookies, true));
  return r;
}

}  // namespace procedo::web
