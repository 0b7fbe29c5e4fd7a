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
