// Inverted dropout (Keras Dropout): while training, each value is kept with
// probability 1 - rate and scaled by 1 / (1 - rate), otherwise set to 0; at
// inference the layer is the identity.
//
// The mask is a pure function of (PassContext::seed, the layer's position in
// the network, the sample's index in the step, the value's index): the
// value j of sample s is kept iff the top 32 bits of
// mix64(derive_seed(seed, layer_index) + s * size + j) are >= rate * 2^32.
// So a step is reproducible, and independent of how its batch is split across
// threads.
#pragma once

#include "training/eigen_types.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class DropoutLayer final : public NetLayer<T> {
 public:
  // layer_index: the layer's position in the network (separates the masks of two dropout layers).
  DropoutLayer(const Layer& spec, int64_t layer_index);
  void reserve(int64_t max_batch) override;
  const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) override;
  // Works in place on dout.
  T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) override;

 private:
  int64_t layer_index_ = 0;
  uint64_t threshold_ = 0;  // keep iff (bits >> 32) >= threshold_
  T scale_ = 1;
  bool active_ = false;  // the last forward applied a mask
  Buffer<T> mask_;       // 0 or scale_ per value
  Buffer<T> y_;
};

}  // namespace fedhub::training
