#include "training/network.hpp"

#include <stdexcept>

#include "training/layers/make_layer.hpp"

namespace fedhub::training {

template <typename T>
Network<T>::Network(const Architecture& arch) {
  if (arch.layers.empty()) throw std::invalid_argument("network: the architecture has no layers");
  input_size_ = element_count(arch.input);
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& spec = arch.layers[i];
    if (element_count(spec.input_shape) != (i == 0 ? input_size_ : layers_.back()->output_size()))
      throw std::invalid_argument("network: layer " + std::to_string(i) + " '" + spec.name +
                                  "' does not take the previous layer's output");
    layers_.push_back(make_layer<T>(spec, static_cast<int64_t>(i)));
    offsets_.push_back(parameter_count_);
    parameter_count_ += layers_.back()->parameter_count();
  }
  output_size_ = layers_.back()->output_size();
  first_trainable_ = layers_.size();
  for (size_t i = 0; i < layers_.size() && first_trainable_ == layers_.size(); ++i)
    if (layers_[i]->parameter_count() > 0 && arch.layers[i].trainable) first_trainable_ = i;
  inputs_.assign(layers_.size(), nullptr);
}

template <typename T>
void Network<T>::reserve(int64_t max_batch) {
  if (max_batch < 0) throw std::invalid_argument("network: negative batch size");
  for (auto& l : layers_) l->reserve(max_batch);
  max_batch_ = max_batch;
}

template <typename T>
const T* Network<T>::forward(const T* params, const T* input, int64_t batch, const PassContext& ctx) {
  if (batch > max_batch_)
    throw std::invalid_argument("network: batch of " + std::to_string(batch) + " exceeds the reserved " +
                                std::to_string(max_batch_) + " samples");
  const T* x = input;
  for (size_t i = 0; i < layers_.size(); ++i) {
    inputs_[i] = x;
    x = layers_[i]->forward(params + offsets_[i], x, batch, ctx);
  }
  forward_done_ = true;
  return x;
}

template <typename T>
const T* Network<T>::backward(const T* params, T* dlogits, T* grads, bool need_input_grad) {
  if (!forward_done_) throw std::logic_error("network: backward without a forward pass");
  forward_done_ = false;  // layers may reuse forward buffers in backward
  T* d = dlogits;
  for (size_t i = layers_.size(); i-- > 0;) {
    const bool need = i > first_trainable_ || need_input_grad;
    d = layers_[i]->backward(params + offsets_[i], inputs_[i], d, grads + offsets_[i], need);
    if (!need) break;
  }
  return d;
}

template class Network<float>;
template class Network<double>;

}  // namespace fedhub::training
