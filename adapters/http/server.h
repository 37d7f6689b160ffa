// The HTTP/1.1 server (Boost.Beast): timeouts, body limits, a worker pool for blocking routes,
// Server-Sent Events, and TLS when a certificate is configured.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapters/http/http.h"

namespace procedo::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (tests)
  int io_threads = 2;
  int worker_threads = 64;                 // blocking routes: appends, read-your-writes waits
  size_t body_limit = 2 << 20;             // larger bodies get 413
  std::chrono::seconds read_timeout{10};   // a request's headers and body must arrive within this
  std::chrono::seconds idle_timeout{60};   // a kept-alive connection with no request is closed
  std::chrono::seconds write_timeout{30};  // a client that stops reading is dropped
  std::chrono::seconds sse_heartbeat{15};
  // A stop waits this long for the answers being computed and written, then drops what is left.
  std::chrono::seconds drain_timeout{10};
  size_t max_event_streams = 256;
  std::string tls_certificate;  // PEM chain; TLS is on when both are set
  std::string tls_private_key;
  // Called after every response, for metrics and logs.
  std::function<void(const Request&, int status, double seconds)> on_response;
  // When set, told each step of every connection (opened, request read, answered, written,
  // closed and why), one line at a time: for finding where an unanswered request stopped.
  // Paths only, never query strings or bodies, which may hold personal data.
  std::function<void(const std::string& line)> trace;
};

// A trace line on standard output, after the monotonic time (the clock a test's own timeline
// uses, so that the two line up).
void PrintTrace(const std::string& line);

class ServerImpl;

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  // Binds and starts the threads; returns the bound port. Errors: the address is taken, the
  // certificate does not load.
  Result<uint16_t> Start();
  // Stops accepting, lets each open connection finish the answer it is computing or writing
  // (for at most the drain timeout; one waiting for a request is closed at once), then stops.
  // Returns how many connections the drain timeout cut off.
  size_t Stop();

 private:
  std::unique_ptr<ServerImpl> impl_;
};

}  // namespace procedo::http
