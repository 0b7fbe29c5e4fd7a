// Optimizers with Keras semantics over one flat float parameter vector.
//
// A step is begin_step() (once, on one thread) then apply() over ranges of
// the parameters; every update is element-wise, so disjoint ranges can be
// applied by different threads with the same result as one serial call.
//
// weight_decay is *decoupled* (as in Keras 3 optimizers and AdamW): before the
// gradient update every parameter, biases included, is shrunk by
// w -= learning_rate * weight_decay * w. It is not added to the gradient
// (no L2 term in the loss), so Adam's moments never see it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "model/recipe.hpp"

namespace fedhub::training {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Number of parameters the state was made for.
  int64_t size() const { return size_; }
  // Steps begun so far (Keras' `iterations`).
  int64_t iterations() const { return iterations_; }

  // Begins the next step: advances the step count and the per-step scalars.
  virtual void begin_step() { ++iterations_; }
  // Applies the current step to params[begin, end) with grads[begin, end).
  virtual void apply(float* params, const float* grads, int64_t begin, int64_t end) = 0;

  // One whole step on the calling thread; throws std::invalid_argument when
  // the spans do not have size() values.
  void step(std::span<float> params, std::span<const float> grads);

 protected:
  explicit Optimizer(int64_t size) : size_(size) {}
  int64_t size_ = 0;
  int64_t iterations_ = 0;
};

// A fresh optimizer (zero state) for `parameter_count` parameters. Throws
// std::invalid_argument naming the field for an unknown optimizer name or an
// out-of-range hyper-parameter (learning_rate > 0, 0 <= momentum < 1,
// 0 <= beta < 1, epsilon > 0, weight_decay >= 0).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, int64_t parameter_count);

}  // namespace fedhub::training
