// A standalone ReLU layer: y = max(x, 0); the gradient is 0 where y <= 0.
#pragma once

#include "training/eigen_types.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class ReluLayer final : public NetLayer<T> {
 public:
  explicit ReluLayer(const Layer& spec);  // spec.type must be relu
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;
  // Works in place on dout.
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;

 private:
  Buffer<T> y_;
};

}  // namespace fedhub::training
