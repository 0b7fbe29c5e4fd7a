// A merge (the paper's step 4): the contributions recorded for a base version
// are streamed from the store into the model's aggregator, and the result is
// stored as version base + 1 together with the updated model record, in one
// synced batch. Runs in the merger actor, off the request path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/model_state.hpp"
#include "persistence/store.hpp"

namespace fedhub {

struct MergeResult {
  uint64_t new_version = 0;
  Buffer version_record;      // the stored ModelVersion
  std::string server_state;   // the aggregator state after this merge
  std::vector<std::string> contributors;
  uint64_t total_samples = 0;
  int64_t peak_held_bytes = 0;  // the aggregator's memory besides the model
};

// Merges the contributions for `base` (which must be model.current_version)
// into version base + 1 and commits it. Memory: the model, one delta and the
// aggregator's own (one accumulator for mean-based strategies); one
// contribution record is read at a time. Contributions recorded after the
// merge starts are not part of it. Throws RequestError (base_not_current,
// not_enough_contributions, internal for damaged records) and StoreError;
// on any throw nothing is written.
MergeResult run_merge(Store& store, const ModelState& model, uint64_t base);

}  // namespace fedhub
