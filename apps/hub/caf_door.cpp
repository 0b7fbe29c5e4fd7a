#include "apps/hub/caf_door.hpp"

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio/ssl/context.hpp>
#include <caf/io/publish.hpp>
#include <caf/io/unpublish.hpp>
#include <filesystem>
#include <stdexcept>

namespace fedhub {

namespace {

namespace ssl = boost::asio::ssl;

void need_file(const std::string& key, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error("'" + key + "': no file '" + path + "' (make one with `fl-hub init-tls DIR`)");
}

// The CAF door's TLS: the hub's certificate and key, TLS 1.2 or later, and
// with tls_client_ca a client certificate signed by that CA is required.
std::shared_ptr<ssl::context> tls_context(const HubConfig& cfg) {
  need_file("tls_certificate", cfg.tls_certificate);
  need_file("tls_key", cfg.tls_key);
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  auto step = [](const char* what, const std::string& path, auto&& f) {
    boost::system::error_code ec;
    f(ec);
    if (ec) throw std::runtime_error(std::string(what) + " '" + path + "': " + ec.message());
  };
  step("cannot use the certificate (chain) in", cfg.tls_certificate,
       [&](auto& ec) { ctx->use_certificate_chain_file(cfg.tls_certificate, ec); });
  step("cannot use the private key in", cfg.tls_key,
       [&](auto& ec) { ctx->use_private_key_file(cfg.tls_key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("'tls_key' " + cfg.tls_key + " is not the key of 'tls_certificate' " +
                             cfg.tls_certificate);
  if (!cfg.tls_client_ca.empty()) {
    need_file("tls_client_ca", cfg.tls_client_ca);
    step("cannot read the client CA in", cfg.tls_client_ca,
         [&](auto& ec) { ctx->load_verify_file(cfg.tls_client_ca, ec); });
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace

CafDoor::CafDoor(caf::actor_system& system, caf::actor hub, const HubConfig& cfg) : hub_(std::move(hub)) {
  guard::GuardOptions o;
  o.bind = cfg.bind;
  o.port = cfg.port;
  o.max_frame_bytes = cfg.max_frame_bytes;
  o.max_connections = cfg.max_connections;
  o.max_connections_per_peer = cfg.max_connections_per_peer;
  o.handshake_timeout = std::chrono::milliseconds(cfg.handshake_timeout_ms);
  if (!cfg.tls_certificate.empty()) {
    o.tls = tls_context(cfg);
    o.threads = 2;  // encryption costs a core's worth at a few hundred MB/s
    tls_ = true;
  }
  auto upstream = caf::io::publish(hub_, 0, "127.0.0.1", true);
  if (!upstream) throw std::runtime_error("cannot publish the hub on loopback: " + system.render(upstream.error()));
  upstream_ = *upstream;
  o.upstream_port = upstream_;
  try {
    guard_ = std::make_unique<guard::FrameGuard>(std::move(o));
  } catch (...) {
    caf::io::unpublish(hub_, upstream_);
    throw;
  }
}

CafDoor::~CafDoor() { close(); }

void CafDoor::close() {
  if (!guard_) return;
  guard_->stop();
  guard_.reset();
  caf::io::unpublish(hub_, upstream_);
}

}  // namespace fedhub
