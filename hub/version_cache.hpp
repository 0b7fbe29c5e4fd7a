// Flat weights of a model's versions, read from the store on demand; the
// most recently used few are kept. Contributions trained from older versions
// are applied as deltas against their own base, so the hub needs those
// bases' weights.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "model/tensor.hpp"
#include "persistence/store.hpp"

namespace fedhub {

class VersionCache {
 public:
  VersionCache(const Store& store, std::string model, std::vector<TensorSpec> layout, size_t capacity = 2);

  // The weights of `version` as one flat vector. Throws
  // RequestError(unknown_version) when they are not stored (any more).
  const std::vector<float>& get(uint64_t version);

  // Remembers weights the caller already has (e.g. a version just made).
  void put(uint64_t version, std::vector<float> flat);

  void clear() { entries_.clear(); }

 private:
  const Store& store_;
  std::string model_;
  std::vector<TensorSpec> layout_;
  size_t capacity_;
  std::list<std::pair<uint64_t, std::vector<float>>> entries_;  // most recent first
};

// Reads a stored ModelVersion buffer into a flat vector, checking its tensors
// against the layout. Throws RequestError.
std::vector<float> read_flat_version(std::span<const char> version_buffer, std::span<const TensorSpec> layout);

}  // namespace fedhub
