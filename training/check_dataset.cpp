#include "training/check_dataset.hpp"

#include <stdexcept>

namespace fedhub::training {

void check_dataset(const Architecture& arch, const datasets::Dataset& data, const std::string& what) {
  if (data.sample_shape != arch.input)
    throw std::invalid_argument(what + ": samples have shape " + shape_to_string(data.sample_shape) +
                                " but the model input is " + shape_to_string(arch.input));
  const int64_t expected = data.size() * element_count(data.sample_shape);
  if (static_cast<int64_t>(data.pixels.size()) != expected)
    throw std::invalid_argument(what + ": " + std::to_string(data.pixels.size()) + " pixel values for " +
                                std::to_string(data.size()) + " samples of shape " +
                                shape_to_string(data.sample_shape) + " (expected " + std::to_string(expected) + ")");
  const int64_t classes = arch.output_size();
  for (int64_t i = 0; i < data.size(); ++i) {
    const int32_t label = data.labels[static_cast<size_t>(i)];
    if (label < 0 || label >= classes)
      throw std::invalid_argument(what + ": sample " + std::to_string(i) + " has label " + std::to_string(label) +
                                  " but the model has " + std::to_string(classes) + " outputs");
  }
}

}  // namespace fedhub::training
