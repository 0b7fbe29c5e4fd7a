#include "model/flat.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fedhub {

std::vector<float> flatten(const Weights& w) {
  std::vector<float> out(static_cast<size_t>(parameter_count(w)));
  flatten_into(w, out);
  return out;
}

void flatten_into(const Weights& w, std::span<float> out) {
  const int64_t n = parameter_count(w);
  if (static_cast<int64_t>(out.size()) != n)
    throw std::invalid_argument("flatten_into: output holds " + std::to_string(out.size()) +
                                " values, the weights have " + std::to_string(n));
  size_t pos = 0;
  for (const auto& t : w) {
    std::copy(t.values.begin(), t.values.end(), out.begin() + static_cast<std::ptrdiff_t>(pos));
    pos += t.values.size();
  }
}

int64_t layout_size(std::span<const TensorSpec> layout) {
  int64_t n = 0;
  for (const auto& s : layout) n += element_count(s.shape);
  return n;
}

Weights unflatten(std::span<const float> flat, std::span<const TensorSpec> layout) {
  const int64_t n = layout_size(layout);
  if (static_cast<int64_t>(flat.size()) != n)
    throw std::invalid_argument("unflatten: the flat vector has " + std::to_string(flat.size()) +
                                " values, the layout of " + std::to_string(layout.size()) + " tensors needs " +
                                std::to_string(n));
  Weights w;
  w.reserve(layout.size());
  size_t pos = 0;
  for (const auto& s : layout) {
    const auto count = static_cast<size_t>(element_count(s.shape));
    w.push_back({s.name, s.shape, std::vector<float>(flat.begin() + pos, flat.begin() + pos + count)});
    pos += count;
  }
  return w;
}

std::vector<TensorSpec> layout_of(const Weights& w) {
  std::vector<TensorSpec> layout;
  layout.reserve(w.size());
  for (const auto& t : w) layout.push_back({t.name, t.shape});
  return layout;
}

std::string where_in_layout(std::span<const TensorSpec> layout, uint64_t index) {
  for (const auto& t : layout) {
    const auto n = static_cast<uint64_t>(element_count(t.shape));
    if (index < n) return "tensor '" + t.name + "' index " + std::to_string(index);
    index -= n;
  }
  return "index " + std::to_string(index);
}

}  // namespace fedhub
