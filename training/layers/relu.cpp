#include "training/layers/relu.hpp"

#include <stdexcept>

#include "training/layers/activation.hpp"

namespace fedhub::training {

template <typename T>
ReluLayer<T>::ReluLayer(const Layer& spec) : NetLayer<T>(spec) {
  if (spec.type != LayerType::relu)
    throw std::invalid_argument("ReluLayer built from a " + std::string(to_string(spec.type)) + " layer '" + spec.name +
                                "'");
}

template <typename T>
void ReluLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
  y_.assign(max_batch * this->output_size_, T(0));
}

template <typename T>
const T* ReluLayer<T>::forward(const T*, const T* in, int64_t batch, const PassContext&) {
  this->check_batch(batch);
  this->batch_ = batch;
  const int64_t n = batch * this->output_size_;
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(y_.data(), n) =
      Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(in, n).max(T(0));
  return y_.data();
}

template <typename T>
T* ReluLayer<T>::backward(const T*, const T*, T* dout, T*, bool need_input_grad) {
  if (!need_input_grad) return nullptr;
  activation_backward(Activation::relu, y_.data(), dout, this->batch_ * this->output_size_);
  return dout;
}

template class ReluLayer<float>;
template class ReluLayer<double>;

}  // namespace fedhub::training
