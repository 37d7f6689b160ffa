#include "adapters/web/site.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>

#include "adapters/web/web.h"

namespace procedo::web {
namespace {

namespace fs = std::filesystem;
namespace mu = kainjow::mustache;

Result<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("cannot read {}", p.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::string ContentType(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  return "application/octet-stream";
}

mu::data ToData(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mu::data d{mu::data::type::object};
      for (auto& [k, v] : j.items()) d.set(k, ToData(v));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mu::data d{mu::data::type::list};
      for (auto& v : j) d.push_back(ToData(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mu::data(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return mu::data(j.get<bool>() ? mu::data::type::bool_true : mu::data::type::bool_false);
    case nlohmann::json::value_t::null:
      return mu::data(mu::data::type::bool_false);
    default:
      return mu::data(j.dump());
  }
}

// The fonts and styles the pages use, by the name the layout and the style sheets refer to them
// by. Bootstrap Italia's own style sheet declares no @font-face (its JavaScript loads the fonts),
// so assets/fonts.css declares the Titillium Web faces the pages use, and the server rewrites its
// url()s to the hashed names.
struct Source {
  const char* name;
  const char* path;  // under the web folder
};
constexpr Source kFonts[] = {
    {"titillium-300.woff2",
     "node_modules/bootstrap-italia/dist/fonts/Titillium_Web/"
     "titillium-web-v10-latin-ext_latin-300.woff2"},
    {"titillium-400.woff2",
     "node_modules/bootstrap-italia/dist/fonts/Titillium_Web/"
     "titillium-web-v10-latin-ext_latin-regular.woff2"},
    {"titillium-600.woff2",
     "node_modules/bootstrap-italia/dist/fonts/Titillium_Web/"
     "titillium-web-v10-latin-ext_latin-600.woff2"},
    {"titillium-700.woff2",
     "node_modules/bootstrap-italia/dist/fonts/Titillium_Web/"
     "titillium-web-v10-latin-ext_latin-700.woff2"},
};
constexpr Source kStyles[] = {
    {"bootstrap-italia.css", "node_modules/bootstrap-italia/dist/css/bootstrap-italia.min.css"},
    {"fonts.css", "assets/fonts.css"},
    {"procedo.css", "assets/procedo.css"},
};

constexpr Source kScripts[] = {
    {"console.js", "assets/console.js"},
};

std::string HashedName(const std::string& name, const std::string& body) {
  auto dot = name.rfind('.');
  return name.substr(0, dot) + "." + Sha256Hex(body).substr(0, 16) + name.substr(dot);
}

}  // namespace

Result<std::unique_ptr<Site>> Site::Load(const std::string& dir) {
  auto site = std::make_unique<Site>();
  const fs::path root(dir);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "templates", ec)) {
    if (entry.path().extension() != ".mustache") continue;
    auto text = ReadFile(entry.path());
    if (!text.ok()) return text.status();
    mu::mustache check(*text);
    if (!check.is_valid()) {
      return Status::InvalidArgument(
          fmt::format("{}: {}", entry.path().string(), check.error_message()));
    }
    site->templates_[entry.path().stem().string()] = std::move(*text);
  }
  if (ec || !site->templates_.count("layout")) {
    return Status::NotFound(fmt::format(
        "no page templates in {}/templates: set web.dir to the source's adapters/web, or "
        "web.enabled = false to serve no pages",
        dir));
  }
  if (auto text = ReadFile(root / "labels.json"); text.ok()) {
    site->labels_ = nlohmann::json::parse(*text, nullptr, false);
    if (!site->labels_.is_object()) {
      return Status::InvalidArgument(
          fmt::format("{}/labels.json is not a JSON object; fix its syntax", dir));
    }
  }
  std::map<std::string, std::string> renamed;  // logical name -> /static/<hashed name>
  bool complete = true;
  for (const Source& f : kFonts) {
    auto body = ReadFile(root / f.path);
    if (!body.ok()) {
      complete = false;
      continue;
    }
    std::string hashed = HashedName(f.name, *body);
    renamed[f.name] = "/static/" + hashed;
    site->assets_[hashed] = {ContentType(f.path), std::move(*body)};
  }
  for (const Source& s : kStyles) {
    auto body = ReadFile(root / s.path);
    if (!body.ok()) {
      complete = false;
      continue;
    }
    for (auto& [name, url] : renamed) {
      const std::string ref = "url(" + name + ")";
      for (size_t at = body->find(ref); at != std::string::npos; at = body->find(ref, at)) {
        body->replace(at, ref.size(), "url(" + url + ")");
        at += url.size();
      }
    }
    std::string hashed = HashedName(s.name, *body);
    site->urls_.push_back({{"href", "/static/" + hashed}});
    site->assets_[hashed] = {ContentType(s.path), std::move(*body)};
  }
  for (const Source& js : kScripts) {
    auto body = ReadFile(root / js.path);
    if (!body.ok()) return body.status();
    std::string hashed = HashedName(js.name, *body);
    site->scripts_.push_back({{"href", "/static/" + hashed}});
    site->assets_[hashed] = {ContentType(js.path), std::move(*body)};
  }
  site->styled_ = complete;
  return site;
}

namespace {
// A template parsed once per thread: kainjow's render is not const, so threads never share one.
mu::mustache& Parsed(uint64_t site, const std::string& name, const std::string& text) {
  thread_local std::map<std::pair<uint64_t, std::string>, std::unique_ptr<mu::mustache>> cache;
  auto& slot = cache[{site, name}];
  if (!slot) slot = std::make_unique<mu::mustache>(text);
  return *slot;
}
std::atomic<uint64_t> next_site{1};
}  // namespace

Site::Site() : serial_(next_site++) {}

std::string Site::Render(const std::string& page, const std::string& title, nlohmann::json data,
                         const Chrome& chrome) const {
  auto it = templates_.find(page);
  if (it == templates_.end()) return {};
  data["title"] = title;
  mu::data d = ToData(data);
  for (const auto& [name, text] : templates_) {
    if (name.rfind('_', 0) != 0) continue;
    const std::string* body = &text;
    d.set(name, mu::partial([body] { return *body; }));
  }
  const bool live = data.value("live", false);
  std::string content = Parsed(serial_, page, it->second).render(d);
  nlohmann::json layout = {{"title", title},
                           {"content", content},
                           {"styles", urls_},
                           {"brand", chrome.brand},
                           {"tagline", chrome.tagline},
                           {"home", chrome.home},
                           {"footer", chrome.footer},
                           {"user", chrome.user},
                           {"live", live},
                           {"scripts", live ? scripts_ : nlohmann::json::array()}};
  return Parsed(serial_, "layout", templates_.at("layout")).render(ToData(layout));
}

const Asset* Site::FindAsset(const std::string& name) const {
  auto it = assets_.find(name);
  return it == assets_.end() ? nullptr : &it->second;
}

http::Response Html(int status, std::string body, bool private_page) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  r.headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
       "font-src 'self' data:; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "same-origin"},
      {"Cache-Control", private_page ? "no-store" : "no-cache"},
  };
  return r;
}

http::Response SeeOther(const std::string& location) {
  http::Response r = Html(303, "", true);
  r.headers.emplace_back("Location", location);
  return r;
}

void AddPageRoute(http::Router& router, const std::string& pattern, http::Handler handler,
                  bool blocking) {
  router.Add("GET", pattern, handler, blocking);
  router.Add("HEAD", pattern, std::move(handler), blocking);
}

std::optional<std::map<std::string, std::string>> ParseForm(const std::string& b) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < b.size();) {
    size_t amp = b.find('&', i);
    if (amp == std::string::npos) amp = b.size();
    std::string pair = b.substr(i, amp - i);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      bool ok_k = true, ok_v = true;
      std::string k = http::UrlDecode(pair.substr(0, eq), &ok_k);
      std::string v = eq == std::string::npos ? "" : http::UrlDecode(pair.substr(eq + 1), &ok_v);
      if (!ok_k || !ok_v) return std::nullopt;
      out[k] = v;
    }
    i = amp + 1;
  }
  return out;
}

std::string Cookie(const http::Request& req, const std::string& name) {
  std::string cookies = req.Header("cookie").value_or("");
  const std::string want = name + "=";
  for (size_t i = 0; i < cookies.size();) {
    size_t end = cookies.find(';', i);
    if (end == std::string::npos) end = cookies.size();
    size_t b = cookies.find_first_not_of(' ', i);
    if (b < end && cookies.compare(b, want.size(), want) == 0) {
      return cookies.substr(b + want.size(), end - b - want.size());
    }
    i = end + 1;
  }
  return "";
}

std::string SetCookie(const std::string& name, const std::string& value, const std::string& path,
                      long long max_age, bool secure, bool lax) {
  std::string c = fmt::format("{}={}; Path={}; HttpOnly; SameSite={}", name, value, path,
                              lax ? "Lax" : "Strict");
  if (max_age >= 0) c += fmt::format("; Max-Age={}", max_age);
  if (secure) c += "; Secure";
  return c;
}

namespace {
constexpr const char* kCsrfCookie = "procedo_csrf";
bool WellFormedToken(const std::string& t) {
  return t.size() == 64 && t.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

std::string FormToken(const http::Request& req, http::Response* out, bool secure) {
  std::string token = Cookie(req, kCsrfCookie);
  if (WellFormedToken(token)) return token;
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";  // no form will then pass the check
  token.clear();
  for (unsigned char b : bytes) token += fmt::format("{:02x}", b);
  out->headers.emplace_back("Set-Cookie", SetCookie(kCsrfCookie, token, "/", -1, secure));
  return token;
}

bool CsrfValid(const http::Request& req, const std::map<std::string, std::string>& form) {
  const std::string cookie = Cookie(req, kCsrfCookie);
  auto it = form.find("csrf");
  if (!WellFormedToken(cookie) || it == form.end() || it->second.size() != cookie.size()) {
    return false;
  }
  return CRYPTO_memcmp(cookie.data(), it->second.data(), cookie.size()) == 0;
}

void AddAssetRoutes(http::Router& router, const Site& site) {
  AddPageRoute(router, "/static/{name}", [&site](http::Request& req) {
    const Asset* a = site.FindAsset(req.params["name"]);
    if (a == nullptr) {
      return Html(404, "<!doctype html><title>Non trovato</title><p>Risorsa non trovata.</p>",
                  false);
    }
    http::Response r;
    r.content_type = a->content_type;
    r.body = a->body;
    r.headers = {{"Cache-Control", "public, max-age=31536000, immutable"},
                 {"X-Content-Type-Options", "nosniff"}};
    return r;
  });
}

}  // namespace procedo::web
