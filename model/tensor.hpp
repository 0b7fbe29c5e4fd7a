// A named dense float32 tensor and a model's weights as an ordered list of them.
//
// This is the in-memory form every pure library shares (training, federation,
// messages). Values are row-major; the shape of a dense kernel is [in, out] and
// of a conv2d kernel [kh, kw, in_channels, out_channels] (Keras' layout).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fedhub {

struct Tensor {
  std::string name;            // e.g. "dense/kernel"
  std::vector<int64_t> shape;  // empty shape = scalar (one element)
  std::vector<float> values;   // size() == element_count(shape)

  std::span<float> span() { return values; }
  std::span<const float> span() const { return values; }
};

// The parameters of one model in the architecture's order.
using Weights = std::vector<Tensor>;

// Product of the dimensions; throws std::invalid_argument on a negative
// dimension or an overflow of int64.
int64_t element_count(std::span<const int64_t> shape);

// "[3,3,1,32]"
std::string shape_to_string(std::span<const int64_t> shape);

// Total number of parameters across all tensors.
int64_t parameter_count(const Weights& w);

// The name and shape of one parameter tensor, without values.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  bool operator==(const TensorSpec&) const = default;
};

// Checks that `w` has exactly the tensors of `expected` (same order, names and
// shapes) and that every value is finite. Returns an empty string when it
// does, otherwise one sentence that names the first offending tensor.
std::string check_weights(const Weights& w, std::span<const TensorSpec> expected);

// Weights of the given layout with every value zero.
Weights zeros_like(std::span<const TensorSpec> layout);

}  // namespace fedhub
