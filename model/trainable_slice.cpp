#include "model/trainable_slice.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fedhub {

TrainableSlice::TrainableSlice(const Architecture& arch) {
  for (const auto& layer : arch.layers)
    for (auto& t : layer.parameters()) {
      const auto n = static_cast<uint64_t>(element_count(t.shape));
      if (layer.trainable) {
        if (!ranges_.empty() && ranges_.back().offset + ranges_.back().count == full_parameters_)
          ranges_.back().count += n;
        else
          ranges_.push_back({full_parameters_, n});
        parameters_ += n;
        layout_.push_back(std::move(t));
      }
      full_parameters_ += n;
    }
}

TrainableSlice TrainableSlice::all_of(std::span<const TensorSpec> layout) {
  TrainableSlice s;
  s.layout_.assign(layout.begin(), layout.end());
  for (const auto& t : layout) s.parameters_ += static_cast<uint64_t>(element_count(t.shape));
  s.full_parameters_ = s.parameters_;
  if (s.parameters_ > 0) s.ranges_.push_back({0, s.parameters_});
  return s;
}

namespace {

void check_size(const char* what, size_t got, uint64_t want) {
  if (got != want)
    throw std::invalid_argument(std::string("trainable slice: ") + what + " holds " + std::to_string(got) +
                                " values, not " + std::to_string(want));
}

}  // namespace

void TrainableSlice::gather(std::span<const float> full, std::span<float> out) const {
  check_size("the full weights", full.size(), full_parameters_);
  check_size("the trainable weights", out.size(), parameters_);
  auto to = out.begin();
  for (const auto& r : ranges_) to = std::copy_n(full.begin() + static_cast<std::ptrdiff_t>(r.offset), r.count, to);
}

AlignedFloats TrainableSlice::gather(std::span<const float> full) const {
  AlignedFloats out(parameters_);
  gather(full, out.span());
  return out;
}

AlignedFloats TrainableSlice::expand(std::span<const float> full, std::span<const float> trained) const {
  check_size("the full weights", full.size(), full_parameters_);
  check_size("the trainable weights", trained.size(), parameters_);
  AlignedFloats out = AlignedFloats::copy_of(full);
  auto from = trained.begin();
  for (const auto& r : ranges_) {
    std::copy_n(from, r.count, out.data() + r.offset);
    from += static_cast<std::ptrdiff_t>(r.count);
  }
  return out;
}

Weights TrainableSlice::select(const Weights& all) const {
  Weights out;
  out.reserve(layout_.size());
  size_t at = 0;
  for (const auto& spec : layout_) {
    while (at < all.size() && all[at].name != spec.name) ++at;
    if (at == all.size())
      throw std::invalid_argument("trainable slice: the weights have no tensor '" + spec.name + "'");
    out.push_back(all[at++]);
  }
  return out;
}

Weights TrainableSlice::overlay(Weights all, const Weights& trained) const {
  if (trained.size() != layout_.size())
    throw std::invalid_argument("trainable slice: " + std::to_string(trained.size()) +
                                " tensors given, the model trains " + std::to_string(layout_.size()));
  size_t at = 0;
  for (const auto& t : trained) {
    while (at < all.size() && all[at].name != t.name) ++at;
    if (at == all.size() || all[at].shape != t.shape)
      throw std::invalid_argument("trainable slice: tensor '" + t.name + "' is not one of the model's, in order");
    all[at++].values = t.values;
  }
  return all;
}

}  // namespace fedhub
