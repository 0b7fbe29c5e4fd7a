// TrainableSlice: which of a model's parameters are trained, and where they
// lie in its weights.
//
// A layer whose "trainable" is false (architecture.hpp; the recipe's
// "freeze" sets it, model_spec.hpp) keeps the weights it was created or
// imported with: participants train only the other tensors and upload only
// those, and the hub merges only those. A contribution's data section is the
// trainable tensors in layer order (its LAYOUT, below); a version's is every
// tensor (Architecture::parameters()). This class maps between the two.
//
// When nothing is frozen, layout() is Architecture::parameters(), whole()
// is true and gather/expand are copies: callers may skip them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/aligned_floats.hpp"
#include "model/architecture.hpp"
#include "model/tensor.hpp"

namespace fedhub {

class TrainableSlice {
 public:
  // A run of trainable values in the full weights: [offset, offset + count).
  struct Range {
    uint64_t offset = 0;
    uint64_t count = 0;
  };

  TrainableSlice() = default;
  explicit TrainableSlice(const Architecture& arch);
  // Every tensor of `layout` trainable.
  static TrainableSlice all_of(std::span<const TensorSpec> layout);

  // The trainable tensors in layer order: a contribution's tensors.
  const std::vector<TensorSpec>& layout() const { return layout_; }
  // Adjacent trainable tensors form one range.
  const std::vector<Range>& ranges() const { return ranges_; }
  uint64_t parameters() const { return parameters_; }            // trainable values
  uint64_t full_parameters() const { return full_parameters_; }  // every value
  uint64_t bytes() const { return parameters_ * sizeof(float); }
  bool whole() const { return parameters_ == full_parameters_; }

  // The trainable values of `full` (full_parameters() values) into `out`
  // (parameters() values). Throws std::invalid_argument on other sizes.
  void gather(std::span<const float> full, std::span<float> out) const;
  AlignedFloats gather(std::span<const float> full) const;
  // A copy of `full` whose trainable values are `trained`.
  AlignedFloats expand(std::span<const float> full, std::span<const float> trained) const;
  // Weights (every tensor) to the trainable ones, by name: what a
  // participant uploads.
  Weights select(const Weights& all) const;
  // `all` with its trainable tensors replaced by those of `trained` (the
  // trainable tensors, as select() gives them): a contribution's weights
  // over the version it was trained from.
  Weights overlay(Weights all, const Weights& trained) const;

 private:
  std::vector<TensorSpec> layout_;
  std::vector<Range> ranges_;
  uint64_t parameters_ = 0;
  uint64_t full_parameters_ = 0;
};

}  // namespace fedhub
