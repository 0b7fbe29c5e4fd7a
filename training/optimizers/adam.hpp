// Keras Adam (epsilon is the paper's "epsilon hat", as in Keras):
//   t += 1
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   w -= alpha * m / (sqrt(v) + epsilon)
// (after the decoupled weight decay w -= lr * weight_decay * w). This equals
// lr * m_hat / (sqrt(v_hat) + epsilon / sqrt(1 - beta2^t)): Keras adds epsilon
// to sqrt(v) before the bias correction, PyTorch adds it to sqrt(v_hat); with
// epsilon 1e-7 the two differ only when |g| is about 1e-7 or smaller.
// Moments are float; alpha is computed in double.
#pragma once

#include <vector>

#include "training/optimizers/optimizer.hpp"

namespace fedhub::training {

class Adam final : public Optimizer {
 public:
  Adam(int64_t size, double learning_rate, double beta1, double beta2, double epsilon, double weight_decay);
  void begin_step() override;
  void apply(float* params, const float* grads, int64_t begin, int64_t end) override;

 private:
  double lr_, beta1_, beta2_;
  float epsilon_, weight_decay_;
  float alpha_ = 0;  // this step's bias-corrected learning rate
  std::vector<float> m_, v_;
};

}  // namespace fedhub::training
