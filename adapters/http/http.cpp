#include "adapters/http/http.h"

#include <fmt/format.h>

namespace procedo::http {

std::optional<std::string> Request::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Problem(int status, const std::string& type, const std::string& title,
                           const std::string& detail, nlohmann::json extra) {
  return FromProblem(procedo::Problem{status, type, title, detail, std::move(extra)});
}

Response Response::FromProblem(const procedo::Problem& p) {
  Response r = Json(p.status, p.ToJson());
  r.content_type = "application/problem+json";
  return r;
}

Response Response::FromStatus(const Status& s) {
  return FromProblem(procedo::Problem::FromStatus(s));
}

namespace {
std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void Router::Add(const std::string& method, const std::string& pattern, Handler h, bool blocking) {
  routes_.push_back({method, pattern, Split(pattern), std::move(h), blocking, nullptr});
}

void Router::AddBlockingWhen(const std::string& method, const std::string& pattern, Handler h,
                             std::function<bool(const Request&)> blocks) {
  routes_.push_back({method, pattern, Split(pattern), std::move(h), true, std::move(blocks)});
}

Router::Match Router::Find(Request& req) const {
  Match m;
  auto segs = Split(req.path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = segs[i];
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    if (r.method != req.method) {
      m.path_known = true;
      m.allowed.push_back(r.method);
      continue;
    }
    req.params = std::move(params);
    req.route = r.pattern;
    m.handler = &r.handler;
    m.blocking = r.blocking;
    if (r.blocks) m.blocks = &r.blocks;
    return m;
  }
  return m;
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

std::string UrlDecode(const std::string& s, bool* ok) {
  *ok = true;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      };
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
        *ok = false;
        return {};
      }
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace procedo::http
