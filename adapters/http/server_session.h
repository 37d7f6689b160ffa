// The server's state and its connections, for server.cpp alone: the only translation unit that
// includes Beast and Asio (everything else sees http.h).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "adapters/http/owned_threads.h"
#include "adapters/http/server.h"

namespace procedo::http {

// Fills `req.path` and `req.query` from `req.target`; false when a %-escape is malformed.
bool ParseTarget(Request& req);

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// An open connection, as a stop sees it: told to drain, it finishes the request it is answering
// (with "Connection: close") and closes, or closes at once when it is waiting for a request.
class Drainable {
 public:
  virtual ~Drainable() = default;
  virtual void Drain() = 0;
};

class ServerImpl {
 public:
  ServerImpl(ServerOptions o, const Router& r)
      : opt(std::move(o)),
        router(r),
        acceptor(ioc),
        workers(static_cast<size_t>(opt.worker_threads)) {}

  Result<uint16_t> Start();
  size_t Stop();
  void Accept();

  void Track(const std::shared_ptr<EventSource>& s) {
    std::lock_guard lock(streams_mu);
    streams.insert(s);
  }
  void Untrack(const std::shared_ptr<EventSource>& s) {
    std::lock_guard lock(streams_mu);
    streams.erase(s);
  }
  void Enter(const void* id, std::weak_ptr<Drainable> session) {
    std::lock_guard lock(sessions_mu);
    sessions.emplace(id, std::move(session));
  }
  void Leave(const void* id) {
    std::lock_guard lock(sessions_mu);
    sessions.erase(id);
    if (sessions.empty()) sessions_left.notify_all();
  }
  // Lets every open connection finish what it is doing, for at most the drain timeout: an answer
  // being computed (a command appended, say) still reaches its client, and no connection is
  // left to the loop's teardown.
  // Returns how many were still open when the timeout ended the wait.
  size_t DrainSessions();

  // First, so that they outlive the loop and the pool: a connection that their teardown destroys
  // still leaves the table.
  std::mutex sessions_mu;
  std::condition_variable sessions_left;
  std::map<const void*, std::weak_ptr<Drainable>> sessions;
  ServerOptions opt;
  const Router& router;
  net::io_context ioc;
  // Keeps the loop's threads running while a stop drains: the acceptor is closed by then, and a
  // connection whose answer is being computed on the pool has nothing pending on the loop.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor;
  std::optional<net::ssl::context> tls;
  net::thread_pool workers;
  std::vector<std::thread> threads;
  std::atomic<size_t> open_streams{0};
  std::atomic<uint64_t> connections{0};  // numbers each connection in the trace
  std::mutex streams_mu;
  std::set<std::shared_ptr<EventSource>> streams;
  OwnedThreads pumps;  // an event stream's pump blocks while it waits, so it has a thread
  std::atomic<bool> stopping{false};
};

namespace {

template <class Stream>
class Session final : public Drainable, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... Args>
  Session(ServerImpl& server, tcp::socket&& socket, Args&&... args)
      : server_(server),
        stream_(std::move(socket), std::forward<Args>(args)...),
        number_(server.connections.fetch_add(1) + 1) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    remote_ = ec ? "" : ep.address().to_string();
    if (server_.opt.trace) Trace(fmt::format("opened from {}:{}", remote_, ec ? 0 : ep.port()));
  }

  ~Session() override {
    Trace("gone");
    server_.Leave(this);
  }

  void Start() {
    auto self = this->shared_from_this();
    server_.Enter(this, self);
    if constexpr (kTls) {
      reading_ = true;  // a drain cancels the handshake as it would a read
      beast::get_lowest_layer(stream_).expires_after(server_.opt.read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
        self->reading_ = false;
        if (!ec) self->Read();
      });
    } else {
      net::dispatch(stream_.get_executor(), [self] { self->Read(); });
    }
  }

  void Drain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->Trace(self->reading_ ? "drained while waiting" : "drained while answering");
      self->draining_ = true;
      // Waiting for a request that may never come: stop waiting (the read ends aborted, and the
      // connection closes). A request being answered ends its connection after the answer.
      if (self->reading_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  void Read() {
    if (draining_) return Close();  // a drain ends the connection after its last answer
    reading_ = true;
    parser_.emplace();
    parser_->body_limit(server_.opt.body_limit);
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(first_ ? server_.opt.read_timeout
                                                          : server_.opt.idle_timeout);
    first_ = false;
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    reading_ = false;
    started_ = std::chrono::steady_clock::now();
    if (ec) Trace(fmt::format("read ended: {}", ec.message()));
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Send(Response::Problem(413, "too-large", "Request body too large",
                                    fmt::format("the body is over the limit of {} bytes",
                                                server_.opt.body_limit)),
                  11, false);
    }
    if (ec == bhttp::error::header_limit) {
      return Send(Response::Problem(431, "headers-too-large", "Request headers too large",
                                    "send at most 16 KiB of headers"),
                  11, false);
    }
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return Send(Response::Problem(400, "bad-http", "Malformed HTTP request", ec.message()), 11,
                    false);
      }
      return Close();
    }
    if (server_.opt.trace) {
      const auto& m = parser_->get();
      const std::string_view target = m.target();
      Trace(fmt::format("read {} {} ({} body bytes)", std::string_view(m.method_string()),
                        target.substr(0, target.find('?')), m.body().size()));
    }
    Dispatch(parser_->release());
  }

  void Dispatch(bhttp::request<bhttp::string_body>&& msg) {
    const unsigned version = msg.version();
    const bool keep_alive = msg.keep_alive();
    auto req = std::make_shared<Request>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    req->remote = remote_;
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, fresh] = req->headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());
    }
    req->body = std::move(msg.body());
    if (!ParseTarget(*req)) {
      return Finish(
          req, Response::Problem(400, "bad-url", "Malformed URL", "the URL has a bad %-escape"),
          version, keep_alive);
    }
    auto match = server_.router.Find(*req);
    if (!match.handler) {
      if (match.path_known) {
        Response r = Response::Problem(405, "method-not-allowed", "Method not allowed",
                                       fmt::format("{} is not allowed here", req->method));
        std::string allow;
        for (auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
        r.headers.emplace_back("Allow", allow);
        return Finish(req, std::move(r), version, keep_alive);
      }
      return Finish(req,
                    Response::Problem(404, "not-found", "Not found",
                                      fmt::format("no route for {}", req->path)),
                    version, keep_alive);
    }
    const Handler* h = match.handler;
    const bool blocking = match.blocking && (match.blocks == nullptr || (*match.blocks)(*req));
    if (!blocking) return Finish(req, Run(*h, *req), version, keep_alive);
    net::post(server_.workers, [self = this->shared_from_this(), h, req, version, keep_alive] {
      Response r = self->Run(*h, *req);
      net::post(self->stream_.get_executor(),
                [self, req, r = std::move(r), version, keep_alive]() mutable {
                  self->Finish(req, std::move(r), version, keep_alive);
                });
    });
  }

  // No input may crash the process: a handler that throws is a bug answered with a 500.
  Response Run(const Handler& h, Request& req) {
    try {
      return h(req);
    } catch (const std::exception& e) {
      return Response::Problem(500, "internal", "Internal error", e.what());
    }
  }

  void Finish(const std::shared_ptr<Request>& req, Response r, unsigned version, bool keep_alive) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started_;
    if (server_.opt.trace)
      Trace(fmt::format("answered {} in {:.1f} ms", r.status, took.count() * 1e3));
    if (server_.opt.on_response) server_.opt.on_response(*req, r.status, took.count());
    if (r.events) return StartEvents(std::move(r), version);
    if (req->method == "HEAD") return SendHead(std::move(r), version, keep_alive);
    Send(std::move(r), version, keep_alive);
  }

  void Send(Response r, unsigned version, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), version);
    SetHeaders(*res, r);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive && !draining_);
    res->prepare_payload();
    Write(std::move(res));
  }

  // HEAD (routes that answer it run the GET's handler): GET's headers, Content-Length included,
  // and no body.
  void SendHead(Response r, unsigned version, bool keep_alive) {
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
        static_cast<bhttp::status>(r.status), version);
    SetHeaders(*res, r);
    res->content_length(r.body.size());
    res->keep_alive(keep_alive && !draining_);
    Write(std::move(res));
  }

  template <class Message>
  static void SetHeaders(Message& res, const Response& r) {
    res.set(bhttp::field::server, "procedo");
    res.set(bhttp::field::content_type, r.content_type);
    // insert, not set: a page may set two cookies, each in its own Set-Cookie.
    for (auto& [k, v] : r.headers) res.insert(k, v);
  }

  template <class Message>
  void Write(std::shared_ptr<Message> res) {
    beast::get_lowest_layer(stream_).expires_after(server_.opt.write_timeout);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
                         if (ec) return self->Trace(fmt::format("write failed: {}", ec.message()));
                         if (res->need_eof()) {
                           self->Trace("written; closing");
                           return self->Close();
                         }
                         self->Trace("written; waiting for the next request");
                         self->Read();
                       });
  }

  void StartEvents(Response r, unsigned version) {
    if (server_.open_streams.fetch_add(1) >= server_.opt.max_event_streams) {
      server_.open_streams.fetch_sub(1);
      r.events->Cancel();
      return Send(
          Response::Problem(503, "too-many-streams", "Too many event streams",
                            "the server has its maximum of open event streams; retry later"),
          version, false);
    }
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, version);
    res->set(bhttp::field::server, "procedo");
    res->set(bhttp::field::content_type, "text/event-stream");
    res->set(bhttp::field::cache_control, "no-cache");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->chunked(true);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    auto source = r.events;
    server_.Track(source);
    beast::get_lowest_layer(stream_).expires_after(server_.opt.write_timeout);
    bhttp::async_write_header(
        stream_, *sr,
        [self = this->shared_from_this(), res, sr, source](beast::error_code ec, size_t) {
          if (ec) return self->EndEvents(source);
          // Every write still goes through this connection's executor and its timeout.
          self->server_.pumps.Start([self, source] { self->PumpEvents(source); });
        });
  }

  void PumpEvents(const std::shared_ptr<EventSource>& source) {
    while (!server_.stopping) {
      auto frame = source->Next(server_.opt.sse_heartbeat);
      if (!frame.ok()) break;
      if (!WriteChunk(frame->empty() ? std::string(": keep-alive\n\n") : std::move(frame).value()))
        break;
    }
    net::post(stream_.get_executor(), [self = this->shared_from_this(), source] {
      net::async_write(self->stream_, bhttp::make_chunk_last(),
                       [self](beast::error_code, size_t) { self->Close(); });
    });
    EndEvents(source);
  }

  bool WriteChunk(std::string text) {
    auto data = std::make_shared<std::string>(std::move(text));
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    net::post(stream_.get_executor(), [self = this->shared_from_this(), data, done] {
      beast::get_lowest_layer(self->stream_).expires_after(self->server_.opt.write_timeout);
      net::async_write(self->stream_, bhttp::make_chunk(net::buffer(*data)),
                       [data, done](beast::error_code ec, size_t) { done->set_value(!ec); });
    });
    if (fut.wait_for(server_.opt.write_timeout + std::chrono::seconds(5)) !=
        std::future_status::ready) {
      return false;
    }
    return fut.get();
  }

  void EndEvents(const std::shared_ptr<EventSource>& source) {
    source->Cancel();
    server_.Untrack(source);
    server_.open_streams.fetch_sub(1);
  }

  void Trace(std::string_view line) const {
    if (server_.opt.trace) server_.opt.trace(fmt::format("connection {} {}", number_, line));
  }

  void Close() {
    beast::error_code ec;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  ServerImpl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  const uint64_t number_;
  bool first_ = true;
  // Both only touched on the connection's executor.
  bool reading_ = false;
  bool draining_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

}  // namespace procedo::http
