#include "training/flat_weights.hpp"

#include <algorithm>
#include <stdexcept>

namespace fedhub::training {

std::vector<float> flatten_weights(const Architecture& arch, const Weights& w, const std::string& what) {
  const auto layout = arch.parameters();
  if (auto problem = check_weights(w, layout); !problem.empty()) throw std::invalid_argument(what + ": " + problem);
  std::vector<float> flat;
  flat.reserve(static_cast<size_t>(parameter_count(w)));
  for (const auto& t : w) flat.insert(flat.end(), t.values.begin(), t.values.end());
  return flat;
}

Weights unflatten_weights(const Architecture& arch, std::span<const float> flat) {
  Weights w = zeros_like(arch.parameters());
  if (static_cast<int64_t>(flat.size()) != parameter_count(w))
    throw std::invalid_argument("unflatten_weights: " + std::to_string(flat.size()) + " values for a model of " +
                                std::to_string(parameter_count(w)) + " parameters");
  size_t offset = 0;
  for (auto& t : w) {
    std::copy_n(flat.begin() + static_cast<std::ptrdiff_t>(offset), t.values.size(), t.values.begin());
    offset += t.values.size();
  }
  return w;
}

}  // namespace fedhub::training
