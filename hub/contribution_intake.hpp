// Accepting contributions: the filtering rules (stale, unknown version,
// duplicate), the checks of the weights and of the update's norm, and the
// durable write that must happen before the acknowledgement. Not
// thread-safe: one collector actor per model owns it, which serialises the
// duplicate check and the write.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hub/merge_policy.hpp"
#include "hub/version_cache.hpp"
#include "messages/common_generated.h"
#include "model/tensor.hpp"
#include "persistence/store.hpp"

namespace fedhub {

// The version rule: a base older than the oldest the policy accepts is
// `stale`, one newer than `current` is `unknown_version`. Throws
// RequestError; returns when the base is accepted.
void check_base_version(const std::string& model, uint64_t base, uint64_t current, const MergePolicy& policy = {});

struct AcceptedContribution {
  fb::ContributionSummaryT summary;
  uint64_t pending_seq = 0;             // its entry in the store's pending list
  uint32_t contributions_for_base = 0;  // including this one
};

class ContributionIntake {
 public:
  ContributionIntake(Store& store, std::string model, std::vector<TensorSpec> layout, uint64_t current_version,
                     MergePolicy policy = {});

  // Verifies the Contribution buffer, applies the rules in this order: model
  // name, base version (stale / unknown_version, by the staleness policy),
  // duplicate, sample count, tensors (bad_shape, bad_dtype, non_finite), the
  // update's L2 norm when the policy bounds it and rejects (norm_exceeded);
  // then writes the contribution, its filtering record and its pending entry
  // in one synced batch. Returns only after the write is durable. Throws
  // RequestError; a refused contribution writes nothing.
  AcceptedContribution accept(std::span<const char> contribution, const std::string& participant);

  void set_current_version(uint64_t version) { current_ = version; }
  uint64_t current_version() const { return current_; }
  void set_policy(const MergePolicy& policy) { policy_ = policy; }

 private:
  uint32_t& count_for(uint64_t base);

  Store& store_;
  std::string model_;
  std::vector<TensorSpec> layout_;
  uint64_t current_;
  MergePolicy policy_;
  uint64_t next_seq_;
  VersionCache bases_;                   // for the norm bound
  std::map<uint64_t, uint32_t> counts_;  // contributions per base version, loaded lazily
};

}  // namespace fedhub
