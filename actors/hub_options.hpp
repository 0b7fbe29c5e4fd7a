// Settings the hub's actors share (from config/hub_config.hpp).
#pragma once

#include <chrono>
#include <cstdint>

#include "hub/model_core.hpp"
#include "model/limits.hpp"

namespace fedhub {

struct HubOptions {
  uint64_t download_chunk_bytes = 4ull << 20;  // a Download without max_bytes
  uint64_t max_chunk_bytes = 16ull << 20;      // the largest chunk served
  // Requests between the hub's actors (summaries, reads, uploads' parts,
  // the journal's synced writes).
  std::chrono::milliseconds request_timeout{60000};
  // A merge (computing, storing a version): long for large models.
  std::chrono::milliseconds merge_timeout{30 * 60 * 1000};
  ModelCore::Limits limits;  // uploads: parts, window, idle time, sessions
  ModelLimits model_limits;  // what a new model may be (hub/model_creation)
  int readers = 2;           // detached actors serving older versions and old status
  // Quotas and back-off (docs/operations.md): contribution bytes per key per
  // minute (0: none); failed authentications from one remote node before it
  // is refused for a while, and the longest while.
  uint64_t upload_bytes_per_minute = 0;
  uint32_t auth_failures_before_backoff = 10;
  uint64_t auth_backoff_max_ms = 60000;
};

}  // namespace fedhub
