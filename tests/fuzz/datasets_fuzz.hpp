// What the data-source targets (fuzz_idx, fuzz_cifar, fuzz_image) share:
// the model input shapes a load converts to, and the options of a load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace fedhub::fuzz {

// One of a few model input shapes, chosen by a byte: [28,28,1], [32,32,3],
// [784], [3072], [7,5,1], [4,4,3].
inline std::vector<int64_t> input_shape(uint8_t choice) {
  static const std::vector<std::vector<int64_t>> shapes = {{28, 28, 1}, {32, 32, 3}, {784},
                                                           {3072},      {7, 5, 1},   {4, 4, 3}};
  return shapes[choice % shapes.size()];
}

// A load on one thread, warnings dropped, for a model of `labels`.
inline datasets::DataOptions load_options(std::vector<int64_t> shape, std::vector<std::string> labels) {
  datasets::DataOptions o;
  o.input_shape = std::move(shape);
  o.model_labels = std::move(labels);
  o.threads = 1;
  o.warn = [](const std::string&) {};
  return o;
}

// Fashion-MNIST's and CIFAR-10's ten names.
inline const std::vector<std::string> kFashionLabels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
inline const std::vector<std::string> kCifarLabels = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                      "dog",      "frog",       "horse", "ship", "truck"};

}  // namespace fedhub::fuzz
