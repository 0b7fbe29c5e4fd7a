// Keras SGD:
//   momentum 0:  w -= lr * g
//   momentum m:  v = m * v - lr * g;  w += v
//   nesterov:    v = m * v - lr * g;  w += m * v - lr * g
// (after the decoupled weight decay w -= lr * weight_decay * w).
#pragma once

#include <vector>

#include "training/optimizers/optimizer.hpp"

namespace fedhub::training {

class Sgd final : public Optimizer {
 public:
  Sgd(int64_t size, float learning_rate, float momentum, bool nesterov, float weight_decay);
  void apply(float* params, const float* grads, int64_t begin, int64_t end) override;

 private:
  float lr_, momentum_, weight_decay_;
  bool nesterov_;
  std::vector<float> velocity_;  // empty without momentum
};

}  // namespace fedhub::training
