// How large a model and its recipe may be: checked before anything
// model-sized is allocated (the hub at creation, fl-manager before it sends
// a create request). Counting is arithmetic over the architecture's shapes,
// guarded against overflow; nothing is allocated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/architecture.hpp"
#include "model/model_spec.hpp"

namespace fedhub {

struct ModelLimits {
  // Parameters (float32 values) of one model: 500M are 2 GB of weights,
  // which the hub holds several times over (docs/architecture.md, Memory).
  uint64_t max_parameters = 500'000'000;
  // Bytes of one model's weights (4 per parameter).
  uint64_t max_model_bytes = 2ull << 30;
  // Optimizer steps of one training round (the recipe's "steps").
  uint64_t max_steps = 1'000'000;
  // Samples per optimizer step (the recipe's "batch_size").
  uint64_t max_batch_size = 65'536;

  // The largest values a hub's configuration may set (config/hub_config):
  // what fl-manager checks locally, so that it never refuses a model some
  // hub would take.
  static constexpr ModelLimits ceiling() { return {1ull << 36, 1ull << 38, 1'000'000'000, 1ull << 20}; }
};

// The number of parameters of an architecture (the sum of its tensors'
// element counts), or nullopt when it does not fit in 64 bits.
std::optional<uint64_t> count_parameters(const Architecture& arch);

// Checks a spec against the limits. Returns an empty string when it fits,
// otherwise one sentence naming the size and the limit, e.g. "the
// architecture has 785010000 parameters (3140040000 bytes); at most
// 500000000 parameters are allowed (max_parameters)". `where` names the
// limits' origin in that sentence (e.g. "the hub's config").
std::string check_model_limits(const ModelSpec& spec, const ModelLimits& limits, const std::string& where);

}  // namespace fedhub
