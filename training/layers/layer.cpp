#include "training/layers/layer.hpp"

#include <stdexcept>
#include <string>

namespace fedhub::training {

template <typename T>
NetLayer<T>::NetLayer(const Layer& spec)
    : spec_(spec), input_size_(element_count(spec.input_shape)), output_size_(element_count(spec.output_shape)) {
  if (spec.input_shape.empty() || spec.output_shape.empty())
    throw std::invalid_argument("layer '" + spec.name + "' (" + to_string(spec.type) +
                                ") has no input/output shape: parse it with parse_architecture");
}

template <typename T>
void NetLayer<T>::check_batch(int64_t batch) const {
  if (batch < 0 || batch > max_batch_)
    throw std::invalid_argument("layer '" + spec_.name + "': batch of " + std::to_string(batch) +
                                " samples exceeds the reserved " + std::to_string(max_batch_));
}

template class NetLayer<float>;
template class NetLayer<double>;

}  // namespace fedhub::training
