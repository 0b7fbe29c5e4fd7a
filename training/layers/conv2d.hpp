// 2-D convolution over NHWC images (Keras Conv2D): kernel [kh, kw, in_c,
// out_c], strides, "valid" or "same" padding, fused activation.
// Computed as im2col + one GEMM per batch: patches [batch * positions,
// kh*kw*in_c] x kernel [kh*kw*in_c, out_c] = output [batch * positions, out_c].
#pragma once

#include "training/eigen_types.hpp"
#include "training/layers/im2col.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class Conv2dLayer final : public NetLayer<T> {
 public:
  explicit Conv2dLayer(const Layer& spec);  // spec.type must be conv2d
  int64_t parameter_count() const override;
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;

  const ConvGeometry& geometry() const { return g_; }

 private:
  ConvGeometry g_;
  int64_t filters_ = 0;
  Buffer<T> cols_;  // [batch * positions, patch]; reused for d(patches) in backward
  Buffer<T> y_;     // [batch * positions, filters]
  Buffer<T> dx_;    // [batch, input_size]
};

}  // namespace fedhub::training
