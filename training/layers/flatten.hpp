// Flatten: NHWC samples are already contiguous in Keras' flatten order
// (h, w, c), so forward and backward pass the data through without copying.
#pragma once

#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class FlattenLayer final : public NetLayer<T> {
 public:
  explicit FlattenLayer(const Layer& spec);  // spec.type must be flatten
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;  // returns in
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;     // returns dout
};

}  // namespace fedhub::training
