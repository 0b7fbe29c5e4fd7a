// Flat parameter vectors: a model's Weights concatenated in layout order.
//
// Every aggregator in this library works on one contiguous float32 vector per
// model (or per delta). The order is the order of the tensors in the Weights
// (the architecture's order), each tensor's values row-major as stored.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub {

// The values of every tensor of `w`, concatenated in order. Its size is
// parameter_count(w).
std::vector<float> flatten(const Weights& w);

// Writes the values of every tensor of `w` into `out` in order. Throws
// std::invalid_argument if out.size() != parameter_count(w).
void flatten_into(const Weights& w, std::span<float> out);

// The inverse of flatten: splits `flat` into tensors of the given layout
// (names and shapes copied from it). Throws std::invalid_argument, naming both
// counts, if flat.size() is not the layout's total element count.
Weights unflatten(std::span<const float> flat, std::span<const TensorSpec> layout);

// The layout (names and shapes) of `w`.
std::vector<TensorSpec> layout_of(const Weights& w);

// Total element count of a layout.
int64_t layout_size(std::span<const TensorSpec> layout);

// Where flat parameter `index` lies: "tensor 'dense/kernel' index 5" (the
// index within the tensor), or "index N" past the layout's end.
std::string where_in_layout(std::span<const TensorSpec> layout, uint64_t index);

}  // namespace fedhub
