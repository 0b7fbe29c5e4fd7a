#include "training/optimizers/sgd.hpp"

namespace fedhub::training {

Sgd::Sgd(int64_t size, float learning_rate, float momentum, bool nesterov, float weight_decay)
    : Optimizer(size), lr_(learning_rate), momentum_(momentum), weight_decay_(weight_decay), nesterov_(nesterov) {
  if (momentum_ != 0.0f) velocity_.assign(size, 0.0f);
}

void Sgd::apply(float* w, const float* g, int64_t begin, int64_t end) {
  if (weight_decay_ != 0.0f) {
    const float shrink = lr_ * weight_decay_;
    for (int64_t i = begin; i < end; ++i) w[i] -= w[i] * shrink;
  }
  if (velocity_.empty()) {
    for (int64_t i = begin; i < end; ++i) w[i] -= lr_ * g[i];
    return;
  }
  float* v = velocity_.data();
  const float m = momentum_;
  if (nesterov_) {
    for (int64_t i = begin; i < end; ++i) {
      v[i] = m * v[i] - lr_ * g[i];
      w[i] += m * v[i] - lr_ * g[i];
    }
  } else {
    for (int64_t i = begin; i < end; ++i) {
      v[i] = m * v[i] - lr_ * g[i];
      w[i] += v[i];
    }
  }
}

}  // namespace fedhub::training
