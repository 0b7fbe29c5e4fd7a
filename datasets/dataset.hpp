// Labelled image data for local training and evaluation, loaded from a data
// source string ("--data"):
//
//   idx:PREFIX[:CLASSES]   the IDX pair PREFIX-images-idx3-ubyte[.gz] and
//                          PREFIX-labels-idx1-ubyte[.gz] (e.g. Fashion-MNIST);
//                          CLASSES keeps only the listed source class indices,
//                          e.g. "idx:/usr/share/datasets/fashion-mnist/train:0,1,2"
//   cifar:DIR[:CLASSES]    the official CIFAR-10 binary batches in DIR
//   folder:DIR[:CLASSES]   one sub-folder per class holding JPEG/PNG images
//
// Every image is converted to the model's input shape (bilinear resize, grey
// repeated over three channels, or flattened for a [d] input) and stored as
// bytes; labels are indices into the model's label list, mapped by name
// (model/labels.hpp). Errors are std::runtime_error naming the file or class.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fedhub::datasets {

struct Dataset {
  std::vector<int64_t> sample_shape;  // the model's input shape: [h, w, c] or [d]
  std::vector<uint8_t> pixels;        // size() * element_count(sample_shape), 0..255
  std::vector<int32_t> labels;        // index into the model's label list
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t sample_size() const;        // element_count(sample_shape)
};

struct DataOptions {
  std::vector<int64_t> input_shape;        // the model's input shape
  std::vector<std::string> model_labels;   // the model's label list
  std::string labels_file;                 // class names of index-labelled sources ("--data-labels")
  std::function<void(const std::string&)> warn;  // told of every file or class skipped
};

Dataset load_dataset(const std::string& source, const DataOptions& options);

}  // namespace fedhub::datasets
