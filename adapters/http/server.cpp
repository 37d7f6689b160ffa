// The only translation unit that includes Beast and Asio: everything else sees http.h.
#include "adapters/http/server.h"

#include "adapters/http/server_session.h"

namespace procedo::http {

bool ParseTarget(Request& req) {
  const std::string& t = req.target;
  const size_t q = t.find('?');
  bool ok = true;
  req.path = UrlDecode(t.substr(0, q), &ok);
  if (!ok || q == std::string::npos) return ok;
  for (size_t i = q + 1; ok && i <= t.size();) {
    size_t amp = t.find('&', i);
    if (amp == std::string::npos) amp = t.size();
    std::string pair = t.substr(i, amp - i);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string k = UrlDecode(pair.substr(0, eq), &ok);
      std::string v = eq == std::string::npos ? "" : UrlDecode(pair.substr(eq + 1), &ok);
      req.query[k] = v;
    }
    i = amp + 1;
  }
  return ok;
}

void PrintTrace(const std::string& line) {
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  fmt::print("procedo: http {:.3f} {}\n", t, line);
  std::fflush(stdout);
}

void ServerImpl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;  // the socket closes here; the acceptor is closing
    if (ec) {
      if (opt.trace) opt.trace(fmt::format("accept failed: {}", ec.message()));
      if (!acceptor.is_open()) return;
    } else if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(socket),
                                                                      *tls)
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket))->Start();
    }
    Accept();
  });
}

Result<uint16_t> ServerImpl::Start() {
  if (!opt.tls_certificate.empty() || !opt.tls_private_key.empty()) {
    try {
      tls.emplace(net::ssl::context::tls_server);
      tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                       net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                       net::ssl::context::no_tlsv1_1);
      tls->use_certificate_chain_file(opt.tls_certificate);
      tls->use_private_key_file(opt.tls_private_key, net::ssl::context::pem);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(fmt::format(
          "cannot load the TLS certificate '{}' and key '{}' ({}): set http.tls_certificate and "
          "http.tls_private_key to readable PEM files",
          opt.tls_certificate, opt.tls_private_key, e.what()));
    }
  }
  beast::error_code ec;
  auto addr = net::ip::make_address(opt.address, ec);
  if (ec) return Status::InvalidArgument(fmt::format("'{}' is not an IP address", opt.address));
  tcp::endpoint ep(addr, opt.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{} ({}); choose another "
                    "http.listen or stop what holds it",
                    opt.address, opt.port, ec.message()));
  }
  uint16_t port = acceptor.local_endpoint().port();
  Accept();
  work.emplace(ioc.get_executor());
  for (int i = 0; i < std::max(1, opt.io_threads); ++i) threads.emplace_back([this] { ioc.run(); });
  return port;
}

size_t ServerImpl::Stop() {
  if (stopping.exchange(true)) return 0;
  net::post(ioc, [this] {
    beast::error_code ec;
    acceptor.close(ec);
  });
  {
    std::lock_guard lock(streams_mu);
    for (auto& s : streams) s->Cancel();
  }
  // A cancelled pump leaves at once, or within one heartbeat or one write timeout; the loop still
  // runs meanwhile, so that each stream gets its last chunk.
  pumps.JoinAll();
  const size_t cut_off = DrainSessions();
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  workers.join();
  // A stream that started while the loop was stopping has a pump too.
  pumps.JoinAll();
  return cut_off;
}

size_t ServerImpl::DrainSessions() {
  std::vector<std::shared_ptr<Drainable>> open;
  {
    std::lock_guard lock(sessions_mu);
    for (auto& [id, session] : sessions) {
      if (auto s = session.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) s->Drain();
  open.clear();  // from here each connection lives as long as its own handlers
  std::unique_lock lock(sessions_mu);
  sessions_left.wait_for(lock, opt.drain_timeout, [this] { return sessions.empty(); });
  return sessions.size();
}

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<ServerImpl>(std::move(options), router)) {}
Server::~Server() {
  Stop();
}
Result<uint16_t> Server::Start() {
  return impl_->Start();
}
size_t Server::Stop() {
  return impl_->Stop();
}

}  // namespace procedo::http
