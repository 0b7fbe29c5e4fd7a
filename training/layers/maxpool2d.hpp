// 2-D max pooling over NHWC images (Keras MaxPooling2D, padding "valid").
// The gradient goes to the first maximum of each window.
#pragma once

#include "training/eigen_types.hpp"
#include "training/layers/im2col.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class MaxPool2dLayer final : public NetLayer<T> {
 public:
  explicit MaxPool2dLayer(const Layer& spec);  // spec.type must be maxpool2d
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;

 private:
  ConvGeometry g_;
  Buffer<T> y_;                  // [batch, out_h, out_w, c]
  std::vector<int32_t> argmax_;  // per output value: index of the maximum within its sample's input
  Buffer<T> dx_;                 // [batch, input_size]
};

}  // namespace fedhub::training
