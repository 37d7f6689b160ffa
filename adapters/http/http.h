// The HTTP API's own request/response types: handlers never see Beast, so Beast and Asio stay
// in server.cpp and the routes compile fast.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/problem.h"
#include "engine/base/status.h"

namespace procedo::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // decoded path, no query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote;  // peer address, for rate limiting
  std::map<std::string, std::string> params;  // filled by the router: {id} -> value
  std::string route;                          // the matched pattern, for metrics

  std::optional<std::string> Header(const std::string& lower_name) const;
  std::optional<std::string> Query(const std::string& name) const;
};

// A source of Server-Sent Events: Next blocks up to `wait` and returns ready-to-send frames
// ("id: ..\nevent: ..\ndata: ..\n\n"), an empty string for nothing yet, or a non-ok status to end.
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual Result<std::string> Next(std::chrono::milliseconds wait) = 0;
  virtual void Cancel() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<EventSource> events;  // set for text/event-stream responses

  static Response Json(int status, const nlohmann::json& body);
  // RFC 9457 problem details. `type` is a short slug, published as https://procedo.dev/problems/<type>.
  static Response Problem(int status, const std::string& type, const std::string& title,
                          const std::string& detail, nlohmann::json extra = nlohmann::json::object());
  static Response FromProblem(const procedo::Problem& p);
  // Maps an engine Status to the problem it means over HTTP.
  static Response FromStatus(const Status& s);
};

using Handler = std::function<Response(Request&)>;

// Method + path pattern ("/v1/streams/{id}/events") -> handler. `blocking` handlers (those that
// append or wait) run on a worker pool instead of the network threads.
class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler h, bool blocking = false);
  // A handler that blocks only for some requests (those that wait for the views, say): it runs on
  // a network thread unless `blocks(request)` is true, saving two thread hops per request.
  void AddBlockingWhen(const std::string& method, const std::string& pattern, Handler h,
                       std::function<bool(const Request&)> blocks);
  struct Match {
    const Handler* handler = nullptr;
    bool blocking = false;
    const std::function<bool(const Request&)>* blocks = nullptr;  // set: decides `blocking`
    bool path_known = false;  // some route has this path, with another method: 405
    std::vector<std::string> allowed;
  };
  Match Find(Request& req) const;
  // For the OpenAPI check: every (method, pattern) registered.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    bool blocking;
    std::function<bool(const Request&)> blocks;
  };
  std::vector<Route> routes_;
};

std::string UrlDecode(const std::string& s, bool* ok);

}  // namespace procedo::http
