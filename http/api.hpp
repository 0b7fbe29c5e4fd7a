// The HTTP API's handlers (docs/http-api.md): each endpoint turned into the
// same FlatBuffers requests the CAF door sends (client/requests.hpp), sent
// to the hub actor through a HubClient of this process, and the answer
// turned into JSON (client/json_views.hpp) or streamed bytes. No rule of the
// hub is repeated here: what the hub refuses, the API refuses with the
// hub's error code and a fitting status (http/http_error.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "client/hub_client.hpp"
#include "http/exchange.hpp"
#include "security/auth_backoff.hpp"

namespace fedhub::http {

struct ApiOptions {
  // JSON request bodies (merge, policy, keys) larger than this are refused.
  uint64_t max_json_body = 64 * 1024;
  // A contribution may be at most 4 bytes per parameter plus this much
  // (its header: tensor names, shapes, metrics).
  uint64_t max_contribution_header = 1 << 20;
  // Event streams send a comment this often, so that idle proxies keep them.
  std::chrono::milliseconds keep_alive{15000};
  // Download chunks asked of the hub, and how many in flight.
  uint64_t download_chunk_bytes = 1 << 20;
  uint32_t download_window = 16;
  // The back-off for client addresses that keep failing to authenticate
  // (config auth_failures_before_backoff, auth_backoff_max_ms).
  uint32_t auth_failures_before_backoff = 10;
  uint64_t auth_backoff_max_ms = 60000;
};

// The door's back-off, shared by its connections' threads.
struct PeerBackoff {
  explicit PeerBackoff(const ApiOptions& o)
      : backoff({.failures_before_backoff = o.auth_failures_before_backoff, .max_ms = o.auth_backoff_max_ms}) {}
  std::mutex mutex;
  AuthBackoff backoff;
};

// What one connection keeps between its requests: its client of the hub and
// the names of the keys it has seen (for the connected-participants gauge).
struct ConnectionState {
  explicit ConnectionState(HubClient& c, std::string peer_address = {}, PeerBackoff* peer_backoff = nullptr)
      : client(c), peer(std::move(peer_address)), backoff(peer_backoff) {}
  HubClient& client;
  std::map<std::string, std::string> names;  // key -> name
  std::string peer;                          // the client's address
  PeerBackoff* backoff;                      // null: no back-off (tests)
};

// Answers one request; never throws (a failure becomes an error response,
// or a closed connection when the head was already sent).
void serve(Exchange& x, ConnectionState& c, const ApiOptions& options, caf::actor_system& system,
           const caf::actor& hub);

}  // namespace fedhub::http
