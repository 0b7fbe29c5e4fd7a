// fl-hub's configuration: a JSON file (--config FILE, see hub.example.json)
// whose settings the command line overrides. Every number is range-checked
// when read (config/hub.example.json lists every setting).
#pragma once

#include <cstdint>
#include <string>

#include "model/limits.hpp"

namespace fedhub {

struct HubConfig {
  std::string bind = "127.0.0.1";  // address to listen on; "0.0.0.0" for all
  uint16_t port = 7461;            // 0: any free port (printed at start)
  std::string data_dir = "fedhub-data";
  int threads = 2;                              // CAF scheduler threads
  uint64_t download_chunk_bytes = 4ull << 20;   // default Download chunk
  uint64_t request_timeout_ms = 60000;          // internal requests between actors
  uint64_t merge_timeout_ms = 30 * 60 * 1000;   // a merge, storing its version included
  uint64_t upload_part_bytes = 4ull << 20;      // the largest upload part taken
  uint32_t upload_window = 4;                   // parts a client may have in flight
  uint64_t upload_idle_seconds = 120;           // an upload idle this long is abandoned
  uint32_t max_uploads_per_model = 64;          // uploads in progress per model
  uint64_t fold_threshold_bytes = 64ull << 20;  // models this large fold uploads as they arrive
  uint64_t max_samples = 1ull << 40;            // samples one contribution may claim
  int readers = 2;                              // detached readers of older versions
  // The HTTP door (docs/http-api.md): off unless http_port is set (0: any
  // free port, printed at start).
  int http_port = -1;
  std::string http_bind = "127.0.0.1";
  int http_max_connections = 64;          // more are answered 503 and closed
  uint64_t http_head_timeout_ms = 10000;  // a request's line and headers must arrive within this
  uint64_t http_io_timeout_ms = 30000;    // each body read and response write must progress within this
  // The CAF door's guard (docs/operations.md, "The CAF door"): every
  // connection passes through it before CAF's middleman reads a byte.
  uint64_t max_frame_bytes = 64ull << 20;  // a frame announcing a larger payload closes its connection
  int max_connections = 4096;              // open connections of the CAF door; more are closed at once
  int max_connections_per_peer = 256;      // of those, from one IP address
  uint64_t handshake_timeout_ms = 10000;   // a new connection must complete CAF's handshake within this
  // TLS on both doors (docs/operations.md, "TLS"): PEM files; both empty:
  // plain TCP (refused beyond loopback unless allow_plain_remote).
  std::string tls_certificate;      // the hub's certificate (chain), e.g. from `fl-hub init-tls`
  std::string tls_key;              // its private key
  std::string tls_client_ca;        // set: mutual TLS, clients must present a certificate signed by this CA
  bool allow_plain_remote = false;  // plain TCP on a non-loopback address (a warning at start)
  // Quotas of each participant key (docs/operations.md, "Quotas");
  // refused with quota_exceeded.
  uint64_t quota_upload_bytes_per_minute = 0;  // contribution bytes a key may send per minute; 0: no quota
  uint32_t quota_open_uploads = 8;             // upload sessions a key may hold open at once (all models)
  // Failed authentications: after this many in a row from one peer, its
  // requests are refused without being checked, for a back-off that
  // doubles up to auth_backoff_max_ms.
  uint32_t auth_failures_before_backoff = 10;
  uint64_t auth_backoff_max_ms = 60000;
  // What a new model may be (checked at creation, before anything is
  // allocated): "max_parameters" (default 500000000), "max_model_bytes"
  // (2147483648), "max_steps" per round (1000000), "max_batch_size" (65536);
  // at most ModelLimits::ceiling().
  ModelLimits model_limits;
};

// Reads a JSON config file over the defaults. Unknown keys, wrong types and
// values out of range are std::runtime_error naming the file, the key and
// the accepted range.
HubConfig load_hub_config(const std::string& path);

}  // namespace fedhub
