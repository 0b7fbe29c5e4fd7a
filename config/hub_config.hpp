// fl-hub's configuration: a JSON file (--config FILE, see hub.example.json)
// whose settings the command line overrides.
#pragma once

#include <cstdint>
#include <string>

namespace fedhub {

struct HubConfig {
  std::string bind = "127.0.0.1";  // address to listen on; "0.0.0.0" for all
  uint16_t port = 7461;            // 0: any free port (printed at start)
  std::string data_dir = "fedhub-data";
  int threads = 2;                             // CAF scheduler threads
  uint64_t download_chunk_bytes = 4ull << 20;  // default Download chunk
  uint64_t request_timeout_ms = 60000;         // internal requests between actors
};

// Reads a JSON config file over the defaults. Unknown keys and wrong types
// are std::runtime_error naming the file and key.
HubConfig load_hub_config(const std::string& path);

}  // namespace fedhub
