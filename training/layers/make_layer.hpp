// Builds the layer object for one parsed layer.
#pragma once

#include <memory>

#include "training/layers/layer.hpp"

namespace fedhub::training {

// layer_index: position in the network (used by dropout masks).
template <typename T>
std::unique_ptr<NetLayer<T>> make_layer(const Layer& spec, int64_t layer_index);

}  // namespace fedhub::training
