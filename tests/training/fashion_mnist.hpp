// Test helper: Fashion-MNIST from the Debian package dataset-fashion-mnist
// (/usr/share/datasets/fashion-mnist/*-idx?-ubyte.gz), parsed here with zlib
// so the training tests do not depend on the datasets/ library.
#pragma once

#include <cstdint>
#include <string>

#include "datasets/dataset.hpp"

namespace fedhub::training::test {

inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The first `count` samples of "train" or "t10k" (throws std::runtime_error
// naming the file when it is missing or malformed), shaped as:
enum class Shape {
  flat784,    // [784]
  padded32x3  // [32, 32, 3]: 2 pixels of zero border, grey repeated over 3 channels
};
datasets::Dataset load_fashion_mnist(const std::string& split, int64_t count, Shape shape);

}  // namespace fedhub::training::test
