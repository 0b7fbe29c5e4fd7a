// Contributions: a participant's trained weights with their base version.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages/buffer.hpp"
#include "messages/contribution_generated.h"
#include "model/tensor.hpp"

namespace fedhub {

struct ContributionMeta {
  std::string model;
  uint64_t base_version = 0;
  std::string participant;  // informational; the hub uses the key's name
  uint64_t num_samples = 0;
  std::vector<std::pair<std::string, double>> metrics;
};

// A Contribution buffer ("FHCT").
Buffer build_contribution(const ContributionMeta& meta, const Weights& weights);

// Verifies the buffer structure; throws RequestError(bad_request). The
// tensors are checked against the model by the hub (check_tensors).
const fb::Contribution* verify_contribution(std::span<const char> data);

// The metrics of a contribution as pairs.
std::vector<std::pair<std::string, double>> read_metrics(const flatbuffers::Vector<flatbuffers::Offset<fb::Metric>>* m);

}  // namespace fedhub
