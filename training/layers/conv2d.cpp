#include "training/layers/conv2d.hpp"

#include <stdexcept>

#include "training/layers/activation.hpp"

namespace fedhub::training {

template <typename T>
Conv2dLayer<T>::Conv2dLayer(const Layer& spec) : NetLayer<T>(spec), g_(ConvGeometry::of(spec)), filters_(spec.filters) {
  if (spec.type != LayerType::conv2d)
    throw std::invalid_argument("Conv2dLayer built from a " + std::string(to_string(spec.type)) + " layer '" +
                                spec.name + "'");
}

template <typename T>
int64_t Conv2dLayer<T>::parameter_count() const {
  return g_.patch_size() * filters_ + (this->spec_.use_bias ? filters_ : 0);
}

template <typename T>
void Conv2dLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
  cols_.assign(max_batch * g_.positions() * g_.patch_size(), T(0));
  y_.assign(max_batch * g_.positions() * filters_, T(0));
  dx_.assign(max_batch * g_.input_size(), T(0));
}

template <typename T>
const T* Conv2dLayer<T>::forward(const T* params, const T* in, int64_t batch, const PassContext&) {
  this->check_batch(batch);
  this->batch_ = batch;
  const int64_t P = g_.patch_size(), M = batch * g_.positions();
  for (int64_t n = 0; n < batch; ++n) im2col(g_, in + n * g_.input_size(), cols_.data() + n * g_.positions() * P);
  MatrixMap<T>(y_.data(), M, filters_).noalias() =
      ConstMatrixMap<T>(cols_.data(), M, P) * ConstMatrixMap<T>(params, P, filters_);
  add_bias_and_activate(y_.data(), M, filters_, this->spec_.use_bias ? params + P * filters_ : nullptr,
                        this->spec_.activation);
  return y_.data();
}

template <typename T>
T* Conv2dLayer<T>::backward(const T* params, const T*, T* dout, T* grads, bool need_input_grad) {
  const int64_t batch = this->batch_, P = g_.patch_size(), M = batch * g_.positions();
  activation_backward(this->spec_.activation, y_.data(), dout, M * filters_);
  ConstMatrixMap<T> dy(dout, M, filters_);
  MatrixMap<T>(grads, P, filters_).noalias() = ConstMatrixMap<T>(cols_.data(), M, P).transpose() * dy;
  if (this->spec_.use_bias) column_sums(dout, M, filters_, grads + P * filters_);
  if (!need_input_grad) return nullptr;
  // The patches are no longer needed: their buffer receives d(loss)/d(patches).
  MatrixMap<T>(cols_.data(), M, P).noalias() = dy * ConstMatrixMap<T>(params, P, filters_).transpose();
  for (int64_t n = 0; n < batch; ++n)
    col2im(g_, cols_.data() + n * g_.positions() * P, dx_.data() + n * g_.input_size());
  return dx_.data();
}

template class Conv2dLayer<float>;
template class Conv2dLayer<double>;

}  // namespace fedhub::training
