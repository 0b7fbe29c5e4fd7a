// Labelled image data for local training and evaluation, loaded from a data
// source string ("--data"). This header is the library's API; docs/models.md
// ("Data sources") repeats it with examples.
//
// Source strings, "KIND:PATH[:CLASSES]":
//
//   idx:PREFIX[:CLASSES]   the IDX pair PREFIX-images-idx3-ubyte[.gz] and
//                          PREFIX-labels-idx1-ubyte[.gz] (e.g. Fashion-MNIST;
//                          the uncompressed file is used when both exist),
//                          e.g. "idx:/usr/share/datasets/fashion-mnist/train:0,1,2"
//   cifar:PATH[:CLASSES]   the official CIFAR-10 binary version: PATH is either a
//                          directory, meaning all its data_batch_*.bin files in
//                          numeric order (the training set), or one .bin file,
//                          e.g. "cifar:DIR/test_batch.bin" for the test set.
//                          batches.meta.txt beside the batches, when present,
//                          gives the class names.
//   folder:DIR[:CLASSES]   one sub-folder per class holding images (.jpg, .jpeg,
//                          .png, .bmp, .gif, .tga, .ppm, .pgm); the sub-folder
//                          name is the class name. Sub-folders and files are
//                          read in byte order of their names.
//
// CLASSES keeps only the listed source classes (comma-separated): source class
// indices ("0,1,2") for every kind, or class names when the source's names
// are known (folder sub-folder names; CIFAR with batches.meta.txt; IDX or
// CIFAR with DataOptions::labels_file). A name is matched exactly first, then
// by fedhub::label_key; a token made of digits that names no class is an
// index (folders are indexed in sorted order). Unknown classes are an error
// naming all of them. PATH is everything between the first ':' and the last
// ':'; a PATH that itself contains ':' must be followed by ':' (an empty
// CLASSES means all classes), e.g. "folder:/data/a:b/train:".
//
// Labels (indices into DataOptions::model_labels), matched by name with
// fedhub::find_label (case and punctuation ignored, the part before '/'
// only: "T-shirt/top" -> "T-shirt", "airplane" -> "Airplane"):
//   * Sources labelled by name (folder; CIFAR with batches.meta.txt) map each
//     class name onto the model's labels; names the model lacks are an error
//     naming all of them (drop them with CLASSES). labels_file is not used
//     for them (a warning says so).
//   * Index-labelled sources (IDX; CIFAR without batches.meta.txt) take their
//     class names from labels_file (one name per line, line i = class i,
//     fedhub::read_labels_file) and then map by name. Without a labels file
//     source class i is model label i; a kept class >= model_labels.size() is
//     an error.
//
// Conversion to DataOptions::input_shape, stored as uint8 in HWC order:
//   * [h, w, c] with c = 1 or 3: the image is resized bilinearly to h x w with
//     half-pixel centres (source coordinate = (x + 0.5) * src/dst - 0.5,
//     clamped to the edge; the same as OpenCV's INTER_LINEAR and TensorFlow's
//     resize with half_pixel_centers, without antialiasing), values rounded to
//     the nearest integer. Grey is repeated over three channels for c = 3;
//     colour becomes grey (luma 0.299 R + 0.587 G + 0.114 B) for c = 1. An
//     alpha channel is dropped.
//   * [d]: the image is flattened (HWC, alpha dropped) when its h*w*c equals
//     d; otherwise it is an error asking for an image input [h, w, c].
//
// Errors are std::runtime_error naming the file or class and what to do.
// Undecodable or non-image files in a folder are reported through
// DataOptions::warn, one message per file naming it, plus a summary with the
// counts; they are never dropped silently.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub::datasets {

struct Dataset {
  std::vector<int64_t> sample_shape;  // the model's input shape: [h, w, c] or [d]
  std::vector<uint8_t> pixels;        // size() * element_count(sample_shape), 0..255
  std::vector<int32_t> labels;        // index into the model's label list
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t sample_size() const { return element_count(sample_shape); }
};

struct DataOptions {
  std::vector<int64_t> input_shape;       // the model's input shape
  std::vector<std::string> model_labels;  // the model's label list
  std::string labels_file;                // class names of index-labelled sources ("--data-labels")
  // Told of every file or class skipped, and of the summary. When empty the
  // messages go to std::cerr. Always called on the thread calling load_dataset.
  std::function<void(const std::string&)> warn;
  // Told of the progress of a load (images done, images in total), about
  // every few thousand images and at the end. Called on the thread calling
  // load_dataset. Optional.
  std::function<void(int64_t done, int64_t total)> progress;
  // Threads for decoding and conversion; 0 = one per core.
  int threads = 0;
};

// Loads and converts the source described by `source` (see the top of this
// file). Throws std::runtime_error on a malformed source string, a missing,
// truncated or malformed file, an unknown class, a shape that cannot be
// converted, or when no image is left.
Dataset load_dataset(const std::string& source, const DataOptions& options);

// The samples at `indices` (in that order, repeats allowed). Throws
// std::runtime_error naming the first index outside [0, data.size()).
Dataset subset(const Dataset& data, std::span<const int64_t> indices);

// Number of samples per model label: result[i] counts label i; the result has
// max(num_labels, largest label + 1) entries.
std::vector<int64_t> count_per_label(const Dataset& data, int64_t num_labels);

// A few lines for a command line: the number of samples and their shape,
// then one line per label present ("  T-shirt  1000"), in model order.
std::string describe_dataset(const Dataset& data, const std::vector<std::string>& model_labels);

}  // namespace fedhub::datasets
