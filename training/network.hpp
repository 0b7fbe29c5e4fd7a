// A sequential network built from an Architecture: forward and backward over
// one batch on the calling thread. Parameters are one flat vector in the
// order of Architecture::parameters() (each tensor's values row-major, as in
// Weights), owned by the caller; the network owns only its layers' scratch
// buffers, so one network per thread can share the parameters.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "model/architecture.hpp"
#include "training/layers/layer.hpp"

namespace fedhub::training {

template <typename T>
class Network {
 public:
  explicit Network(const Architecture& arch);

  int64_t parameter_count() const { return parameter_count_; }
  int64_t input_size() const { return input_size_; }    // values per sample
  int64_t output_size() const { return output_size_; }  // logits per sample
  size_t layer_count() const { return layers_.size(); }
  NetLayer<T>& layer(size_t i) { return *layers_.at(i); }
  // Offset of layer i's parameters in the flat vector.
  int64_t parameter_offset(size_t i) const { return offsets_.at(i); }

  // Sizes every buffer for batches of up to max_batch samples (no allocation afterwards).
  void reserve(int64_t max_batch);
  int64_t max_batch() const { return max_batch_; }

  // input [batch, input_size()] must stay unchanged until backward. Returns the
  // logits [batch, output_size()], valid until the next forward.
  const T* forward(const T* params, const T* input, int64_t batch, const PassContext& ctx);

  // After forward: dlogits [batch, output_size()] = d(loss)/d(logits), overwritten.
  // grads (parameter_count() values) is overwritten with d(loss)/d(params).
  // Returns d(loss)/d(input) when need_input_grad, else nullptr.
  const T* backward(const T* params, T* dlogits, T* grads, bool need_input_grad = false);

 private:
  std::vector<std::unique_ptr<NetLayer<T>>> layers_;
  std::vector<int64_t> offsets_;
  std::vector<const T*> inputs_;  // each layer's input in the last forward
  int64_t parameter_count_ = 0, input_size_ = 0, output_size_ = 0, max_batch_ = 0;
  size_t first_trainable_ = 0;  // layers before it (frozen or without parameters) need no gradient
  bool forward_done_ = false;
};

}  // namespace fedhub::training
