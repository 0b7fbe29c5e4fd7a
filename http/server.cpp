#include "http/server.hpp"

#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <limits>
#include <mutex>

#include "http/http_error.hpp"
#include "http/timed_stream.hpp"
#include "metrics/registry.hpp"

namespace fedhub::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

// Open connections of every server of the process (the gauge outlives servers).
std::atomic<int> g_open{0};

void declare_gauge() {
  static std::once_flag once;
  std::call_once(once, [] {
    metrics::global().gauge("fedhub_http_connections", [] {
      return std::vector<std::pair<metrics::Labels, double>>{{{}, static_cast<double>(g_open.load())}};
    });
    metrics::global().declare("fedhub_http_tls_refused_total", metrics::Kind::counter,
                              "HTTPS connections closed in the TLS handshake, by reason (plain_http, timeout, "
                              "handshake: a wrong or missing certificate, an old protocol, not TLS at all).");
  });
}

[[noreturn]] void fail(const beast::error_code& ec, const char* what) { throw std::system_error(ec, what); }

class BeastExchange final : public Exchange {
 public:
  BeastExchange(TimedStream& s, beast::flat_buffer& b, bhttp::request_parser<bhttp::buffer_body>& p,
                const HttpOptions& o, const std::atomic<bool>& stopping)
      : sock_(s), buf_(b), parser_(p), o_(o), stopping_(stopping) {
    method_ = std::string(p.get().method_string());
    target_ = std::string(p.get().target());
  }

  std::string_view method() const override { return method_; }
  std::string_view target() const override { return target_; }
  std::string header(std::string_view name) const override {
    auto it = parser_.get().find(beast::string_view(name.data(), name.size()));
    return it == parser_.get().end() ? std::string() : std::string(it->value());
  }
  std::optional<uint64_t> content_length() const override {
    auto n = parser_.content_length();
    if (!n) return parser_.chunked() ? std::nullopt : std::optional<uint64_t>(0);
    return *n;
  }
  bool chunked() const override { return parser_.chunked(); }

  std::string read_body(uint64_t max) override {
    if (auto n = content_length(); n && *n > max) {
      close_ = true;
      throw HttpError(
          413, "payload_too_large",
          "the body declares " + std::to_string(*n) + " bytes; at most " + std::to_string(max) + " are taken here");
    }
    std::string out;
    char piece[16 * 1024];
    while (true) {
      const size_t n = read_body_some(piece);
      if (n == 0) break;
      out.append(piece, n);
      if (out.size() > max) {
        close_ = true;
        throw HttpError(413, "payload_too_large",
                        "the body is longer than the " + std::to_string(max) + " bytes taken here");
      }
    }
    return out;
  }

  size_t read_body_some(std::span<char> out) override {
    if (parser_.is_done() || out.empty()) return 0;
    sock_.expires_after(o_.io_timeout);
    parser_.get().body().data = out.data();
    parser_.get().body().size = out.size();
    beast::error_code ec;
    bhttp::read(sock_, buf_, parser_, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      close_ = true;
      if (ec == asio::error::timed_out)
        throw HttpError(408, "request_timeout",
                        "the body did not arrive within " + std::to_string(o_.io_timeout.count()) + " ms");
      if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream)
        throw HttpError(400, "bad_request", "the body ended before its Content-Length");
      throw HttpError(400, "bad_request", "reading the body: " + ec.message());
    }
    return out.size() - parser_.get().body().size;
  }

  void respond(unsigned status, const std::string& content_type, const std::string& body,
               const Headers& extra) override {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), parser_.get().version()};
    head(res, content_type, extra);
    sock_.expires_after(o_.io_timeout);
    if (method_ == "HEAD") {
      res.content_length(body.size());
      bhttp::response_serializer<bhttp::string_body> sr{res};
      beast::error_code ec;
      bhttp::write_header(sock_, sr, ec);
      if (ec) fail(ec, "writing a response");
    } else {
      res.body() = body;
      res.prepare_payload();
      beast::error_code ec;
      bhttp::write(sock_, res, ec);
      if (ec) fail(ec, "writing a response");
      metrics::global().count("fedhub_http_bytes_total", {{"direction", "out"}}, static_cast<double>(body.size()));
    }
    finish_head(status);
  }

  void begin_stream(unsigned status, const std::string& content_type, std::optional<uint64_t> length,
                    const Headers& extra) override {
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), parser_.get().version()};
    if (!length) close_ = true;  // the body ends with the connection
    head(res, content_type, extra);
    if (length) res.content_length(*length);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    sock_.expires_after(o_.io_timeout);
    bhttp::write_header(sock_, sr, ec);
    if (ec) fail(ec, "writing a response");
    finish_head(status);
  }

  void write(std::span<const char> bytes) override {
    if (method_ == "HEAD" || bytes.empty()) return;
    beast::error_code ec;
    sock_.expires_after(o_.io_timeout);
    asio::write(sock_, asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) fail(ec, "writing a response");
  }

  bool responded() const override { return responded_; }
  void close_after() override { close_ = true; }
  bool stopping() const override { return stopping_.load(); }

  bool keep_alive() const { return !close_ && parser_.get().keep_alive() && parser_.is_done(); }

 private:
  template <class Res>
  void head(Res& res, const std::string& content_type, const Headers& extra) {
    res.set(bhttp::field::server, "fedhub");
    res.set(bhttp::field::content_type, content_type);
    res.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : extra) res.set(k, v);
    // A body left unread ends the connection after the answer.
    if (!parser_.is_done() && method_ != "GET" && method_ != "HEAD") close_ = true;
    res.keep_alive(!close_ && parser_.get().keep_alive());
  }
  void finish_head(unsigned status) {
    responded_ = true;
    metrics::global().count("fedhub_http_requests_total", {{"code", std::to_string(status)}});
  }

  TimedStream& sock_;
  beast::flat_buffer& buf_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  const HttpOptions& o_;
  const std::atomic<bool>& stopping_;
  std::string method_, target_;
  bool responded_ = false;
  bool close_ = false;
};

// A bare answer outside any request (too many connections, a head that
// cannot be parsed or came too slowly).
void answer_raw(TimedStream& s, unsigned status, const std::string& code, const std::string& message) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::server, "fedhub");
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = error_body(code, message);
  res.prepare_payload();
  beast::error_code ec;
  s.expires_after(std::chrono::seconds(2));
  bhttp::write(s, res, ec);
  metrics::global().count("fedhub_http_requests_total", {{"code", std::to_string(status)}});
}

// What a plain HTTP client sent to the HTTPS door reads, on the raw socket.
void answer_plain_to_https(tcp::socket& s) {
  const std::string body =
      error_body("bad_request", "this door speaks HTTPS: use https:// (and the hub's CA file, e.g. curl --cacert)");
  const std::string raw =
      "HTTP/1.1 400 Bad Request\r\nServer: fedhub\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(s.native_handle(), raw.data(), raw.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

}  // namespace

HttpServer::HttpServer(caf::actor_system& system, caf::actor hub, HttpOptions options)
    : system_(system), hub_(std::move(hub)), options_(std::move(options)), acceptor_(io_) {
  declare_gauge();
  backoff_ = std::make_unique<PeerBackoff>(options_.api);
  if (options_.tls_certificate.empty() != options_.tls_key.empty())
    throw std::runtime_error("the HTTP door's TLS needs both a certificate and its key");
  if (!options_.tls_client_ca.empty() && options_.tls_certificate.empty())
    throw std::runtime_error("the HTTP door's mutual TLS (a client CA) needs a certificate and key");
  if (!options_.tls_certificate.empty()) {
    try {
      tls_ = tls::make_server_context({options_.tls_certificate, options_.tls_key, options_.tls_client_ca});
    } catch (const tls::TlsError& e) {
      throw std::runtime_error(std::string("the HTTP door's TLS: ") + e.what());
    }
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(options_.bind, ec);
  if (ec) throw std::runtime_error("--http-bind: '" + options_.bind + "' is not an IP address");
  const tcp::endpoint ep{address, options_.port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen for HTTP on " + options_.bind + ":" + std::to_string(options_.port) + ": " +
                             ec.message() + " (is the port in use? choose another with --http-port)");
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (stopping_.exchange(true)) {
    if (acceptor_thread_.joinable()) acceptor_thread_.join();
    return;
  }
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes accept()
  if (acceptor_thread_.joinable()) acceptor_thread_.join();
  std::unique_lock lock(mutex_);
  for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads
  all_closed_.wait(lock, [this] { return open_.load() == 0; });
  beast::error_code ec;
  acceptor_.close(ec);
}

void HttpServer::accept_loop() {
  while (!stopping_.load()) {
    beast::error_code ec;
    tcp::socket s(io_);
    acceptor_.accept(s, ec);
    if (stopping_.load()) break;
    if (ec) continue;
    if (open_.load() >= options_.max_connections) {
      if (tls_) {  // a 503 would need a handshake first, in this thread: just close
        metrics::global().count("fedhub_http_requests_total", {{"code", "503"}});
        s.close(ec);
        continue;
      }
      TimedStream timed(s);
      answer_raw(timed, 503, "too_many_connections",
                 "the hub has " + std::to_string(options_.max_connections) +
                     " HTTP connections open (http_max_connections); try again shortly");
      s.close(ec);
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      ++open_;
      ++g_open;
      sockets_.insert(s.native_handle());
    }
    auto owned = std::make_unique<tcp::socket>(std::move(s));
    std::thread([this, sock = std::move(owned)]() mutable {
      connection(*sock);  // closes the socket
      sock.reset();       // before stop() may return and the io_context go
      std::lock_guard lock(mutex_);
      --g_open;
      if (--open_ == 0) all_closed_.notify_all();
    }).detach();
  }
}

void HttpServer::connection(tcp::socket& s) {
  std::unique_ptr<SSL, SslFree> ssl;
  try {
    if (tls_) {
      ssl.reset(SSL_new(tls_.get()));
      if (!ssl) throw std::runtime_error("SSL_new failed");
    }
    TimedStream stream(s, ssl.get());
    if (ssl) {
      stream.expires_after(options_.head_timeout);
      std::string why;
      const auto fault = stream.handshake(why);
      if (fault != TimedStream::HandshakeFault::none) {
        if (fault == TimedStream::HandshakeFault::plain_http) answer_plain_to_https(s);
        if (fault != TimedStream::HandshakeFault::closed)
          metrics::global().count("fedhub_http_tls_refused_total",
                                  {{"reason", fault == TimedStream::HandshakeFault::plain_http ? "plain_http"
                                              : fault == TimedStream::HandshakeFault::timeout  ? "timeout"
                                                                                               : "handshake"}});
        ssl.reset();
        throw std::runtime_error("TLS handshake: " + why);
      }
    }
    HubClient client(system_, hub_, "", options_.hub_timeout, "this hub");
    beast::error_code peer_ec;
    const auto peer = s.remote_endpoint(peer_ec);
    ConnectionState state(client, peer_ec ? std::string("an unknown address") : peer.address().to_string(),
                          backoff_.get());
    beast::flat_buffer buf;
    while (!stopping_.load()) {
      bhttp::request_parser<bhttp::buffer_body> parser;
      parser.header_limit(options_.max_head_bytes);
      parser.body_limit(std::numeric_limits<uint64_t>::max());
      // The head, within its deadline however slowly it trickles in.
      stream.expires_after(options_.head_timeout);
      beast::error_code ec;
      bhttp::read_header(stream, buf, parser, ec);
      if (ec) {
        const bool idle = buf.size() == 0 && !parser.got_some();
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
            stopping_.load())
          break;
        if (ec == asio::error::timed_out) {
          if (!idle)
            answer_raw(
                stream, 408, "request_timeout",
                "the request's head did not arrive within " + std::to_string(options_.head_timeout.count()) + " ms");
          break;
        }
        answer_raw(stream, 400, "bad_request", "cannot parse the request: " + ec.message());
        break;
      }
      BeastExchange x(stream, buf, parser, options_, stopping_);
      serve(x, state, options_.api, system_, hub_);
      if (!x.keep_alive()) break;
    }
    stream.close_tls();
  } catch (const std::exception& e) {
    // The peer went away mid-response, or the hub client could not start.
  }
  beast::error_code ec;
  s.shutdown(tcp::socket::shutdown_both, ec);
  std::lock_guard lock(mutex_);
  sockets_.erase(s.native_handle());  // before the number can be reused
  s.close(ec);
}

}  // namespace fedhub::http
