#include "guard/frame_guard.hpp"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "guard/basp_scanner.hpp"
#include "guard/peer_slots.hpp"
#include "metrics/registry.hpp"

namespace fedhub::guard {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Bytes read per turn in each direction of a connection.
constexpr size_t kTurnBytes = 64 * 1024;

void count_refusal(const char* reason) { metrics::global().count("fedhub_guard_refused_total", {{"reason", reason}}); }

struct RelaySettings {
  tcp::endpoint upstream;
  BaspLimits limits;
  std::chrono::milliseconds handshake_timeout;
};

// One client connection and its connection to CAF. Every handler runs on the
// strand of the accepted socket, so no state needs a lock.
template <class Down>
class Relay : public std::enable_shared_from_this<Relay<Down>> {
 public:
  Relay(Down down, PeerSlots::Ticket ticket, const RelaySettings& settings)
      : down_(std::move(down)),
        up_(down_.get_executor()),
        timer_(down_.get_executor()),
        ticket_(std::move(ticket)),
        settings_(settings),
        scanner_(settings.limits) {}

  void start() {
    auto self = this->shared_from_this();
    timer_.expires_after(settings_.handshake_timeout);
    timer_.async_wait([self](error_code ec) {
      if (ec || self->scanner_.handshake_done() || self->closed_) return;
      count_refusal("handshake_timeout");
      self->close();
    });
    if constexpr (std::is_same_v<Down, tcp::socket>) {
      connect_upstream();
    } else {
      down_.async_handshake(asio::ssl::stream_base::server, [self](error_code ec) {
        if (ec) {
          count_refusal("tls_handshake");
          return self->close();
        }
        self->connect_upstream();
      });
    }
  }

 private:
  void connect_upstream() {
    auto self = this->shared_from_this();
    up_.async_connect(settings_.upstream, [self](error_code ec) {
      if (ec || self->closed_) return self->close();
      error_code ignored;
      self->up_.set_option(tcp::no_delay(true), ignored);
      self->from_client();
      self->from_hub();
    });
  }

  void from_client() {
    auto self = this->shared_from_this();
    down_.async_read_some(asio::buffer(client_bytes_), [self](error_code ec, size_t n) {
      if (ec || self->closed_) return self->close();
      if (auto problem = self->scanner_.feed({self->client_bytes_.data(), n})) {
        count_refusal(name(*problem));
        return self->close();
      }
      if (self->scanner_.handshake_done()) self->timer_.cancel();
      asio::async_write(self->up_, asio::buffer(self->client_bytes_.data(), n), [self](error_code ec, size_t) {
        if (ec || self->closed_) return self->close();
        self->from_client();
      });
    });
  }

  void from_hub() {
    auto self = this->shared_from_this();
    up_.async_read_some(asio::buffer(hub_bytes_), [self](error_code ec, size_t n) {
      if (ec || self->closed_) return self->close();
      asio::async_write(self->down_, asio::buffer(self->hub_bytes_.data(), n), [self](error_code ec, size_t) {
        if (ec || self->closed_) return self->close();
        self->from_hub();
      });
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    error_code ignored;
    down_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    down_.lowest_layer().close(ignored);
    up_.shutdown(tcp::socket::shutdown_both, ignored);
    up_.close(ignored);
  }

  Down down_;
  tcp::socket up_;
  asio::steady_timer timer_;
  PeerSlots::Ticket ticket_;
  const RelaySettings& settings_;
  BaspScanner scanner_;
  bool closed_ = false;
  std::array<char, kTurnBytes> client_bytes_;
  std::array<char, kTurnBytes> hub_bytes_;
};

}  // namespace

struct FrameGuard::Impl {
  GuardOptions options;
  RelaySettings settings;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  std::shared_ptr<PeerSlots> slots;
  std::vector<std::thread> threads;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // Out of descriptors or memory: try again shortly rather than spin.
        count_refusal("accept_failed");
        retry.expires_after(std::chrono::milliseconds(100));
        retry.async_wait([this](error_code e) {
          if (!e) accept();
        });
        return;
      }
      admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket) {
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    PeerSlots::Refusal why{};
    auto ticket = slots->admit(peer.address().to_string(), &why);
    if (!ticket) {
      count_refusal(name(why));
      socket.close(ec);
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (options.tls) {
      using TlsStream = asio::ssl::stream<tcp::socket>;
      std::make_shared<Relay<TlsStream>>(TlsStream(std::move(socket), *options.tls), std::move(*ticket), settings)
          ->start();
    } else {
      std::make_shared<Relay<tcp::socket>>(std::move(socket), std::move(*ticket), settings)->start();
    }
  }
};

FrameGuard::FrameGuard(GuardOptions options) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.options = std::move(options);
  m.settings.upstream = tcp::endpoint(asio::ip::address_v4::loopback(), m.options.upstream_port);
  m.settings.limits.max_payload = m.options.max_frame_bytes;
  m.settings.handshake_timeout = m.options.handshake_timeout;
  m.slots = PeerSlots::make({m.options.max_connections, m.options.max_connections_per_peer});
  error_code ec;
  tcp::endpoint at;
  if (const auto address = asio::ip::make_address(m.options.bind, ec); !ec) {
    at = tcp::endpoint(address, m.options.port);
  } else {
    tcp::resolver resolver(m.io);
    const auto found = resolver.resolve(m.options.bind, std::to_string(m.options.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty())
      throw std::runtime_error("cannot listen on '" + m.options.bind + "': not an address or a known host name");
    at = found.begin()->endpoint();
  }
  m.acceptor.open(at.protocol(), ec);
  if (!ec) m.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(at, ec);
  if (!ec) m.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + m.options.bind + ":" + std::to_string(m.options.port) + ": " +
                             ec.message());
  std::weak_ptr<PeerSlots> slots = m.slots;
  metrics::global().gauge("fedhub_guard_connections", [slots] {
    std::vector<std::pair<metrics::Labels, double>> out;
    if (auto s = slots.lock()) out.push_back({{}, static_cast<double>(s->open())});
    return out;
  });
  m.accept();
  for (int i = 0; i < std::max(1, m.options.threads); ++i) m.threads.emplace_back([&io = m.io] { io.run(); });
}

FrameGuard::~FrameGuard() { stop(); }

uint16_t FrameGuard::port() const {
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

int FrameGuard::open_connections() const { return impl_->slots->open(); }

void FrameGuard::stop() {
  auto& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  m.io.stop();
  for (auto& t : m.threads) t.join();
  error_code ignored;
  m.acceptor.close(ignored);
  // The io_context's destructor (with Impl's) destroys the pending handlers,
  // and with them every relay and its sockets.
}

}  // namespace fedhub::guard
