// The server-rendered pages' shared machinery: templates (mustache data files), the static assets
// with content-hashed names, the security headers every page carries, forms, cookies and the
// CSRF check. Pages know nothing of Beast: they answer http::Request with http::Response.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "adapters/http/http.h"
#include "domain/italian_text.h"
#include "engine/base/status.h"

namespace procedo::web {

// What every page of one area shares around its content: the header's name and home link, and
// for signed-in staff, who they are and the sign-out form.
struct Chrome {
  std::string brand = "La tua pratica on line";
  std::string tagline = "Lo stato delle pratiche presentate agli uffici";
  std::string home = "/pratica";
  // {name, role, tenant, csrf, signout (the form's action)}: the header's sign-out form
  nlohmann::json user = nullptr;
  std::string footer = "Servizio di consultazione delle pratiche amministrative.";
};

struct Asset {
  std::string content_type;
  std::string body;
};

class Site {
 public:
  Site();
  // `dir`: the web folder (templates/, assets/, and node_modules/ with Bootstrap Italia as
  // scripts/setup installs it). Missing templates are an error; a missing Bootstrap Italia only
  // leaves the pages unstyled (`styled()` says which).
  static Result<std::unique_ptr<Site>> Load(const std::string& dir);

  // templates/<page>.mustache with `data`, inside templates/layout.mustache. Every value is
  // HTML-escaped by the templates ({{ }}); only the layout takes the rendered page unescaped.
  // Templates named _<name> are partials every page may include ({{> _name}}). A page whose data
  // says `live` gets the script that refreshes its live region (assets/console.js) and the
  // status line that announces it.
  std::string Render(const std::string& page, const std::string& title, nlohmann::json data,
                     const Chrome& chrome = {}) const;
  // By the hashed name under /static/.
  const Asset* FindAsset(const std::string& name) const;
  bool styled() const { return styled_; }
  // labels.json: the Italian names of roles, worklists, states, events and guard refusals the
  // console shows (the workflows' own payload schemas carry their forms' labels).
  const nlohmann::json& labels() const { return labels_; }
  const std::map<std::string, Asset>& assets() const { return assets_; }

 private:
  std::map<std::string, std::string> templates_;
  std::map<std::string, Asset> assets_;               // by hashed name
  nlohmann::json urls_ = nlohmann::json::array();     // the layout's style sheets, in order
  nlohmann::json scripts_ = nlohmann::json::array();  // pages with a live region load these
  bool styled_ = false;
  nlohmann::json labels_ = nlohmann::json::object();
  uint64_t serial_;  // tells this site's parsed templates from another's
};

// An HTML page with the security headers: a Content-Security-Policy allowing only this origin's
// scripts, styles, fonts, images and connections (no inline script or style), no framing, no
// sniffing, no referrer beyond the origin. `private_page`: the page shows a citizen's data, so
// nothing may store it.
http::Response Html(int status, std::string body, bool private_page);
// 303 to `location` (redirect after post), with the same headers.
http::Response SeeOther(const std::string& location);
// Registers a page for GET and HEAD: HEAD runs the same handler, and the server sends its
// headers without the body, so both always agree.
void AddPageRoute(http::Router& router, const std::string& pattern, http::Handler handler,
                  bool blocking = false);

// application/x-www-form-urlencoded; nullopt for a malformed body.
std::optional<std::map<std::string, std::string>> ParseForm(const std::string& body);
std::string Cookie(const http::Request& req, const std::string& name);
// `max_age` < 0: a session cookie; 0: deletes it. HttpOnly always, SameSite=Strict unless `lax`
// (a cookie that must come along when another site sends the browser back, as an identity
// provider does after a sign-in); Secure when the server speaks TLS.
std::string SetCookie(const std::string& name, const std::string& value, const std::string& path,
                      long long max_age, bool secure, bool lax = false);

// CSRF, double-submit: a random token in an HttpOnly, SameSite=Strict cookie, and the same token
// in each form. A page with a form calls FormToken: the cookie's token, or a new one whose
// Set-Cookie it adds to `out`.
std::string FormToken(const http::Request& req, http::Response* out, bool secure);
// Whether the form's token matches the cookie's (constant time).
bool CsrfValid(const http::Request& req, const std::map<std::string, std::string>& form);

// "26/11/2026 alle 09:30" and "26/11/2026" from an RFC 3339 instant written in Italian local
// time (the views' *_local fields, or an instant passed through the calendar's FormatLocal).
using domain::ItalianDate;
using domain::ItalianDateTime;

}  // namespace procedo::web
