// Settings the hub's actors share (from config/hub_config.hpp).
#pragma once

#include <chrono>
#include <cstdint>

namespace fedhub {

struct HubOptions {
  uint64_t download_chunk_bytes = 4ull << 20;
  uint64_t max_chunk_bytes = 64ull << 20;
  std::chrono::milliseconds request_timeout{60000};
};

}  // namespace fedhub
