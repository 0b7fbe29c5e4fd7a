#include "training/layers/flatten.hpp"

#include <stdexcept>

namespace fedhub::training {

template <typename T>
FlattenLayer<T>::FlattenLayer(const Layer& spec) : NetLayer<T>(spec) {
  if (spec.type != LayerType::flatten)
    throw std::invalid_argument("FlattenLayer built from a " + std::string(to_string(spec.type)) + " layer '" +
                                spec.name + "'");
  if (this->input_size_ != this->output_size_)
    throw std::invalid_argument("flatten layer '" + spec.name + "' changes the number of values per sample");
}

template <typename T>
void FlattenLayer<T>::reserve(int64_t max_batch) {
  this->max_batch_ = max_batch;
}

template <typename T>
const T* FlattenLayer<T>::forward(const T*, const T* in, int64_t batch, const PassContext&) {
  this->check_batch(batch);
  this->batch_ = batch;
  return in;
}

template <typename T>
T* FlattenLayer<T>::backward(const T*, const T*, T* dout, T*, bool need_input_grad) {
  return need_input_grad ? dout : nullptr;
}

template class FlattenLayer<float>;
template class FlattenLayer<double>;

}  // namespace fedhub::training
