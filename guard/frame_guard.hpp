// The CAF door's guard: a TCP (or TLS) listener in front of CAF's middleman.
// CAF 0.17 trusts the payload length a peer announces before anything checks
// who the peer is, and holds connections that never speak; the guard accepts
// each connection itself, relays its bytes to CAF's loopback port, and closes
// it when
//   - a frame announces more than `max_frame_bytes` or is not BASP
//     (BaspScanner, basp_scanner.hpp),
//   - the client's handshake has not arrived within `handshake_timeout`,
//   - the door already holds `max_connections`, or `max_connections_per_peer`
//     from the same address (PeerSlots, peer_slots.hpp).
// With a TLS context the guard is also the TLS endpoint: clients speak TLS
// (caf::openssl::remote_actor), CAF behind it sees plain BASP. The hub's
// replies are relayed unchanged (they are ours).
//
//   FrameGuard guard(options);   // listens; throws std::runtime_error
//   guard.port();                // the port (options.port 0: the kernel's)
//   guard.stop();                // closes the listener and every connection
//
// Refusals are counted in fedhub_guard_refused_total{reason} and open
// connections in fedhub_guard_connections (metrics/registry.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace fedhub::guard {

struct GuardOptions {
  std::string bind = "127.0.0.1";  // where clients connect
  uint16_t port = 0;               // 0: any free port
  uint16_t upstream_port = 0;      // CAF's port on 127.0.0.1
  uint64_t max_frame_bytes = 64ull << 20;
  int max_connections = 4096;
  int max_connections_per_peer = 256;
  std::chrono::milliseconds handshake_timeout{10000};
  int threads = 1;  // threads relaying bytes
  // A server context (certificate, key, client verification): the door
  // speaks TLS. Null: plain TCP.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class FrameGuard {
 public:
  explicit FrameGuard(GuardOptions options);
  ~FrameGuard();  // stop()
  FrameGuard(const FrameGuard&) = delete;
  FrameGuard& operator=(const FrameGuard&) = delete;

  uint16_t port() const;
  // Connections open now (tests, metrics).
  int open_connections() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fedhub::guard
