#include "model/tensor.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace fedhub {

int64_t element_count(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape " + shape_to_string(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw std::invalid_argument("shape " + shape_to_string(shape) + " overflows int64");
    n *= d;
  }
  return n;
}

std::string shape_to_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t parameter_count(const Weights& w) {
  int64_t n = 0;
  for (const auto& t : w) n += static_cast<int64_t>(t.values.size());
  return n;
}

std::string check_weights(const Weights& w, std::span<const TensorSpec> expected) {
  if (w.size() != expected.size())
    return "expected " + std::to_string(expected.size()) + " tensors, got " + std::to_string(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& t = w[i];
    const auto& e = expected[i];
    if (t.name != e.name)
      return "tensor " + std::to_string(i) + " is named '" + t.name + "', expected '" + e.name + "'";
    if (t.shape != e.shape)
      return "tensor '" + t.name + "' has shape " + shape_to_string(t.shape) + ", expected " + shape_to_string(e.shape);
    if (static_cast<int64_t>(t.values.size()) != element_count(t.shape))
      return "tensor '" + t.name + "' holds " + std::to_string(t.values.size()) + " values for shape " +
             shape_to_string(t.shape);
    for (size_t j = 0; j < t.values.size(); ++j)
      if (!std::isfinite(t.values[j]))
        return "tensor '" + t.name + "' holds a non-finite value (" + std::to_string(t.values[j]) + ") at index " +
               std::to_string(j);
  }
  return {};
}

Weights zeros_like(std::span<const TensorSpec> layout) {
  Weights w;
  w.reserve(layout.size());
  for (const auto& s : layout) w.push_back({s.name, s.shape, std::vector<float>(element_count(s.shape), 0.0f)});
  return w;
}

}  // namespace fedhub
