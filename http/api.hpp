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
#include <string>

#include "client/hub_client.hpp"
#include "http/exchange.hpp"

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
};

// What one connection keeps between its requests: its client of the hub and
// the names of the keys it has seen (for the connected-participants gauge).
struct ConnectionState {
  explicit ConnectionState(HubClient& c) : client(c) {}
  HubClient& client;
  std::map<std::string, std::string> names;  // key -> name
};

// Answers one request; never throws (a failure becomes an error response,
// or a closed connection when the head was already sent).
void serve(Exchange& x, ConnectionState& c, const ApiOptions& options, caf::actor_system& system,
           const caf::actor& hub);

}  // namespace fedhub::http
