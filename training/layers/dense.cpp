#include "training/layers/dense.hpp"

#include <stdexcept>

#include "training/layers/activation.hpp"

namespace fedhub::training {

template <typename T>
DenseLayer<T>::DenseLayer(const Layer& spec) : NetLayer<T>(spec), in_(this->input_size_), out_(spec.units) {
  if (spec.type != LayerType::dense)
    throw std::invalid_argument("DenseLayer built from a " + std::string(to_string(spec.type)) + " layer '" +
                                spec.name + "'");
}

template <typename T>
int64_t DenseLayer<T>::parameter_count() const {
  return in_ * out_ + (this->spec_.use_bias ? out_ : 0);
}

template <typename T>
void DenseLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
  y_.assign(max_batch * out_, T(0));
  dx_.assign(max_batch * in_, T(0));
}

template <typename T>
const T* DenseLayer<T>::forward(const T* params, const T* in, int64_t batch, const PassContext&) {
  this->check_batch(batch);
  this->batch_ = batch;
  MatrixMap<T> y(y_.data(), batch, out_);
  y.noalias() = ConstMatrixMap<T>(in, batch, in_) * ConstMatrixMap<T>(params, in_, out_);
  add_bias_and_activate(y_.data(), batch, out_, this->spec_.use_bias ? params + in_ * out_ : nullptr,
                        this->spec_.activation);
  return y_.data();
}

template <typename T>
T* DenseLayer<T>::backward(const T* params, const T* in, T* dout, T* grads, bool need_input_grad) {
  const int64_t batch = this->batch_;
  activation_backward(this->spec_.activation, y_.data(), dout, batch * out_);
  ConstMatrixMap<T> dy(dout, batch, out_);
  MatrixMap<T>(grads, in_, out_).noalias() = ConstMatrixMap<T>(in, batch, in_).transpose() * dy;
  if (this->spec_.use_bias) column_sums(dout, batch, out_, grads + in_ * out_);
  if (!need_input_grad) return nullptr;
  MatrixMap<T>(dx_.data(), batch, in_).noalias() = dy * ConstMatrixMap<T>(params, in_, out_).transpose();
  return dx_.data();
}

template class DenseLayer<float>;
template class DenseLayer<double>;

}  // namespace fedhub::training
