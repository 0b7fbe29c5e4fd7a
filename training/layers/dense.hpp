// Dense (fully connected) layer: y = activation(x W + b), W [in, out] as in Keras.
#pragma once

#include "training/eigen_types.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class DenseLayer final : public NetLayer<T> {
 public:
  explicit DenseLayer(const Layer& spec);  // spec.type must be dense
  int64_t parameter_count() const override;
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;

 private:
  int64_t in_ = 0, out_ = 0;
  Buffer<T> y_;   // [batch, out]
  Buffer<T> dx_;  // [batch, in]
};

}  // namespace fedhub::training
