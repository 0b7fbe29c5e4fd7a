// The hub's HTTP door: a Boost.Beast server in the hub's process whose
// handlers (http/api.hpp) talk to the hub actor through the same messages as
// the CAF door. One thread per connection, each with its own client of the
// hub, up to max_connections; more are answered 503 at once and closed.
// Slow clients are bounded by a deadline for a request's head and a timeout
// on every read and write of its body.
//
// With a certificate and key (HttpOptions::tls_certificate, tls_key) the door
// speaks only HTTPS: TLS 1.2 or later over the same non-blocking sockets and
// deadlines (the handshake must end within head_timeout); with tls_client_ca
// also, a client must present a certificate signed by that CA (mutual TLS) on
// top of its API key. A plain HTTP request to an HTTPS door is answered with
// a plain-text 400 ("this door speaks HTTPS") and closed; anything else that
// is not a TLS handshake is closed.
//
//   HttpServer server(system, hub, options);   // listening when constructed
//   ... server.port() ...
//   server.stop();                              // also by the destructor
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "http/api.hpp"
#include "tls/server_context.hpp"

namespace fedhub::http {

struct HttpOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (port() tells)
  int max_connections = 64;
  // A request's line and headers must arrive within this.
  std::chrono::milliseconds head_timeout{10000};
  // Each read of a body, and each write of a response, must progress within this.
  std::chrono::milliseconds io_timeout{30000};
  // Request heads larger than this are refused (431 would be the status;
  // Beast answers it as a bad request).
  uint32_t max_head_bytes = 16 * 1024;
  // How long a call to the hub may take.
  std::chrono::milliseconds hub_timeout{60000};
  // HTTPS: PEM files of the door's certificate (chain) and key; both empty:
  // plain HTTP. With tls_client_ca also: mutual TLS against that CA.
  std::string tls_certificate;
  std::string tls_key;
  std::string tls_client_ca;
  ApiOptions api;
};

class HttpServer {
 public:
  // Binds and starts accepting; throws std::runtime_error naming the
  // address when it cannot bind, or naming the TLS file that is wrong and
  // how (tls/server_context.hpp) before it binds.
  HttpServer(caf::actor_system& system, caf::actor hub, HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  // Whether the door speaks HTTPS.
  bool tls() const { return tls_ != nullptr; }
  // Stops accepting, ends open connections and waits for their threads.
  void stop();
  int open_connections() const { return open_.load(); }

 private:
  void accept_loop();
  void connection(boost::asio::ip::tcp::socket& socket);

  caf::actor_system& system_;
  caf::actor hub_;
  HttpOptions options_;
  tls::SslCtxPtr tls_;  // null: plain HTTP
  std::unique_ptr<PeerBackoff> backoff_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::thread acceptor_thread_;
  std::mutex mutex_;
  std::condition_variable all_closed_;
  std::set<int> sockets_;  // native handles of open connections, shut down by stop()
};

}  // namespace fedhub::http
