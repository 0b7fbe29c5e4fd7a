// A contribution's delta read back from its stored chunks (persistence/
// store.hpp, family chunks): the uploaded values minus the weights of its
// base, chunk by chunk in offset order. It computes what the upload path
// computed from the same bytes, with the same arithmetic: the XXH3-64 hash
// of the data section (messages/checksum.hpp) and the delta's squared L2
// norm (federation::check_part's partial sums, added in chunk order), so
// that a merge after a restart, and a replay (hub/replay.hpp), see exactly
// the delta the live merge saw.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "persistence/store.hpp"

namespace fedhub {

struct StoredDeltaScan {
  uint64_t bytes = 0;        // bytes of chunks read
  uint64_t data_hash = 0;    // XXH3-64 of those bytes in offset order
  double delta_squared = 0;  // sum of (value - base)^2 over them
};

// Calls visit(first, delta) for each stored chunk of `upload_id`, with
// first = the chunk's first parameter index and delta = its values minus
// base[first, first + n) (valid during the call). Throws
// RequestError(internal) naming `who` when a chunk lies outside the model
// or is not a whole number of floats, and what visit throws.
StoredDeltaScan scan_stored_delta(const Store& store, const std::string& model, uint64_t upload_id,
                                  std::span<const float> base, const std::string& who,
                                  const std::function<void(size_t first, std::span<const float> delta)>& visit);

}  // namespace fedhub
