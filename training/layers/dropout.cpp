#include "training/layers/dropout.hpp"

#include <cmath>
#include <stdexcept>

#include "training/random.hpp"

namespace fedhub::training {

template <typename T>
DropoutLayer<T>::DropoutLayer(const Layer& spec, int64_t layer_index) : NetLayer<T>(spec), layer_index_(layer_index) {
  if (spec.type != LayerType::dropout)
    throw std::invalid_argument("DropoutLayer built from a " + std::string(to_string(spec.type)) + " layer '" +
                                spec.name + "'");
  if (!(spec.rate >= 0.0 && spec.rate < 1.0))
    throw std::invalid_argument("dropout layer '" + spec.name + "': rate must be in [0, 1)");
  threshold_ = static_cast<uint64_t>(std::llround(spec.rate * 4294967296.0));
  scale_ = static_cast<T>(1.0 / (1.0 - spec.rate));
}

template <typename T>
void DropoutLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
  mask_.assign(max_batch * this->output_size_, T(0));
  y_.assign(max_batch * this->output_size_, T(0));
}

template <typename T>
const T* DropoutLayer<T>::forward(const T*, const T* in, int64_t batch, const PassContext& ctx) {
  this->check_batch(batch);
  this->batch_ = batch;
  active_ = ctx.training && threshold_ > 0;
  if (!active_) return in;
  const int64_t size = this->output_size_;
  const uint64_t key = derive_seed(ctx.seed, static_cast<uint64_t>(layer_index_));
  for (int64_t n = 0; n < batch; ++n) {
    const uint64_t base = key + static_cast<uint64_t>((ctx.first_sample + n) * size);
    T* m = mask_.data() + n * size;
    const T* x = in + n * size;
    T* y = y_.data() + n * size;
    for (int64_t j = 0; j < size; ++j) {
      m[j] = (mix64(base + static_cast<uint64_t>(j)) >> 32) >= threshold_ ? scale_ : T(0);
      y[j] = x[j] * m[j];
    }
  }
  return y_.data();
}

template <typename T>
T* DropoutLayer<T>::backward(const T*, const T*, T* dout, T*, bool need_input_grad) {
  if (!need_input_grad) return nullptr;
  if (active_) {
    const int64_t n = this->batch_ * this->output_size_;
    for (int64_t i = 0; i < n; ++i) dout[i] *= mask_[i];
  }
  return dout;
}

template class DropoutLayer<float>;
template class DropoutLayer<double>;

}  // namespace fedhub::training
