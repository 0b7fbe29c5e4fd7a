#include "training/layers/make_layer.hpp"

#include <stdexcept>

#include "training/layers/conv2d.hpp"
#include "training/layers/dense.hpp"
#include "training/layers/dropout.hpp"
#include "training/layers/flatten.hpp"
#include "training/layers/maxpool2d.hpp"
#include "training/layers/relu.hpp"

namespace fedhub::training {

template <typename T>
std::unique_ptr<NetLayer<T>> make_layer(const Layer& spec, int64_t layer_index) {
  switch (spec.type) {
    case LayerType::flatten:
      return std::make_unique<FlattenLayer<T>>(spec);
    case LayerType::dense:
      return std::make_unique<DenseLayer<T>>(spec);
    case LayerType::relu:
      return std::make_unique<ReluLayer<T>>(spec);
    case LayerType::conv2d:
      return std::make_unique<Conv2dLayer<T>>(spec);
    case LayerType::maxpool2d:
      return std::make_unique<MaxPool2dLayer<T>>(spec);
    case LayerType::dropout:
      return std::make_unique<DropoutLayer<T>>(spec, layer_index);
  }
  throw std::invalid_argument("layer '" + spec.name + "' has an unknown type");
}

template std::unique_ptr<NetLayer<float>> make_layer<float>(const Layer&, int64_t);
template std::unique_ptr<NetLayer<double>> make_layer<double>(const Layer&, int64_t);

}  // namespace fedhub::training
