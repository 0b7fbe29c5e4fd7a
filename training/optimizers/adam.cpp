#include "training/optimizers/adam.hpp"

#include <cmath>

namespace fedhub::training {

Adam::Adam(int64_t size, double learning_rate, double beta1, double beta2, double epsilon, double weight_decay)
    : Optimizer(size),
      lr_(learning_rate),
      beta1_(beta1),
      beta2_(beta2),
      epsilon_(static_cast<float>(epsilon)),
      weight_decay_(static_cast<float>(weight_decay)),
      m_(size, 0.0f),
      v_(size, 0.0f) {}

void Adam::begin_step() {
  Optimizer::begin_step();
  const double t = static_cast<double>(iterations_);
  alpha_ = static_cast<float>(lr_ * std::sqrt(1.0 - std::pow(beta2_, t)) / (1.0 - std::pow(beta1_, t)));
}

void Adam::apply(float* w, const float* g, int64_t begin, int64_t end) {
  if (weight_decay_ != 0.0f) {
    const float shrink = static_cast<float>(lr_) * weight_decay_;
    for (int64_t i = begin; i < end; ++i) w[i] -= w[i] * shrink;
  }
  const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const float c1 = 1.0f - b1, c2 = 1.0f - b2, alpha = alpha_, eps = epsilon_;
  float* m = m_.data();
  float* v = v_.data();
  for (int64_t i = begin; i < end; ++i) {
    m[i] = b1 * m[i] + c1 * g[i];
    v[i] = b2 * v[i] + c2 * g[i] * g[i];
    w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace fedhub::training
