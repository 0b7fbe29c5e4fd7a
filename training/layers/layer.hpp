// The interface every layer kind implements (one file per kind in this folder).
//
// A layer object holds only its configuration and its scratch buffers, never
// parameters: those live in one flat vector owned by the caller (the network
// or a test), so that several threads can each run their own layer objects
// over shared parameters. Every buffer is sized once by reserve(); forward and
// backward do not allocate.
//
// Data are row-major, one sample after the other; an image sample is NHWC.
// T is float for training and double for gradient checks.
#pragma once

#include <cstdint>

#include "model/architecture.hpp"

namespace fedhub::training {

// How a forward pass runs.
struct PassContext {
  bool training = false;     // dropout is active only when training
  uint64_t seed = 0;         // dropout masks: one stream per step (see dropout.hpp)
  int64_t first_sample = 0;  // index of this batch's first sample in the whole step, so that
                             // masks do not depend on how the batch is split across threads
};

template <typename T>
class NetLayer {
 public:
  virtual ~NetLayer() = default;

  // The parsed layer (input/output shapes, hyper-parameters).
  const Layer& spec() const { return spec_; }
  // Values per sample.
  int64_t input_size() const { return input_size_; }
  int64_t output_size() const { return output_size_; }
  // Number of parameters (kernel then bias, in Keras' layouts).
  virtual int64_t parameter_count() const { return 0; }

  // Sizes the scratch buffers for batches of up to max_batch samples.
  virtual void reserve(int64_t max_batch) = 0;
  int64_t max_batch() const { return max_batch_; }

  // in: [batch, input_size()], batch <= max_batch(). params: this layer's
  // parameter_count() values. Returns [batch, output_size()]; the result stays
  // valid until the next forward call and may alias `in`.
  virtual const T* forward(const T* params, const T* in, int64_t batch, const PassContext& ctx) = 0;

  // Once after each forward, on the same `in` (layers may reuse forward buffers): dout is d(loss)/d(output) [batch,
  // output_size()] and may be overwritten. Overwrites grads (parameter_count()
  // values) with d(loss)/d(params). When need_input_grad, returns
  // d(loss)/d(in) [batch, input_size()] (which may alias dout); otherwise
  // returns nullptr and skips that work.
  virtual T* backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) = 0;

 protected:
  explicit NetLayer(const Layer& spec);
  void check_batch(int64_t batch) const;  // throws std::invalid_argument when batch > max_batch()

  Layer spec_;
  int64_t input_size_ = 0;
  int64_t output_size_ = 0;
  int64_t max_batch_ = 0;
  int64_t batch_ = 0;  // of the last forward call
};

}  // namespace fedhub::training
