// Conversion between Weights (named tensors) and the flat parameter vector
// the networks and optimizers use (tensors concatenated in
// Architecture::parameters() order, each row-major).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/architecture.hpp"
#include "model/tensor.hpp"

namespace fedhub::training {

// Checks `w` against the architecture's layout (names, shapes, finite values)
// and concatenates it. Throws std::invalid_argument "<what>: <the first
// problem>" (e.g. "start weights: tensor 'dense/kernel' has shape ...").
std::vector<float> flatten_weights(const Architecture& arch, const Weights& w, const std::string& what = "weights");

// The inverse: flat must hold exactly the architecture's parameter count
// (std::invalid_argument otherwise).
Weights unflatten_weights(const Architecture& arch, std::span<const float> flat);

}  // namespace fedhub::training
