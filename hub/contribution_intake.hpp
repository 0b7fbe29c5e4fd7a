// Accepting contributions: the paper's filtering rules (stale, unknown
// version, duplicate), the checks of the weights, and the durable write that
// must happen before the acknowledgement. Not thread-safe: one collector
// actor per model owns it, which serialises the duplicate check and the write.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "messages/common_generated.h"
#include "model/tensor.hpp"
#include "persistence/store.hpp"

namespace fedhub {

// The version rule alone: a base older than `current` is `stale`, a newer one
// `unknown_version`. Throws RequestError; returns when base == current.
void check_base_version(const std::string& model, uint64_t base, uint64_t current);

struct AcceptedContribution {
  fb::ContributionSummaryT summary;
  uint32_t contributions_for_base = 0;  // including this one
};

class ContributionIntake {
 public:
  ContributionIntake(Store& store, std::string model, std::vector<TensorSpec> layout, uint64_t current_version);

  // Verifies the Contribution buffer, applies the rules in this order: model
  // name, base version (stale / unknown_version), duplicate, sample count,
  // tensors (bad_shape, bad_dtype, non_finite); then writes the contribution
  // and its filtering record in one synced batch. Returns only after the
  // write is durable. Throws RequestError; a refused contribution writes
  // nothing.
  AcceptedContribution accept(std::span<const char> contribution, const std::string& participant);

  void set_current_version(uint64_t version) { current_ = version; }
  uint64_t current_version() const { return current_; }

 private:
  uint32_t& count_for(uint64_t base);

  Store& store_;
  std::string model_;
  std::vector<TensorSpec> layout_;
  uint64_t current_;
  std::map<uint64_t, uint32_t> counts_;  // contributions per base version, loaded lazily
};

}  // namespace fedhub
