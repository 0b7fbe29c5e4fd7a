// What a data source holds in its own terms, before any model is involved:
// its images' shape and its classes' names. For tools that describe a source
// (fedhub-data-info) without a model's input shape and label list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedhub::datasets {

struct SourceInfo {
  std::vector<int64_t> shape;       // [h, w, c] of its images (c = 1 or 3)
  std::vector<std::string> labels;  // its classes in index order
  std::string labels_from;          // where the names come from ("class indices" when it has none)
};

// Probes `source` ("KIND:PATH[:CLASSES]", dataset.hpp; CLASSES is ignored):
//   idx:    the images file's header gives [rows, cols, 1]; class names from
//           labels_file, else Fashion-MNIST's ten names when PATH names
//           fashion-mnist, else "0" .. "N-1" for the labels present;
//   cifar:  [32, 32, 3]; names from batches.meta.txt, else labels_file, else
//           "0" .. "9";
//   folder: the first image's size (grey or colour); the sub-folder names.
// Loading the source with DataOptions{shape, labels} then keeps its images
// and labels as they are. Throws std::runtime_error like load_dataset.
SourceInfo probe_source(const std::string& source, const std::string& labels_file = "");

}  // namespace fedhub::datasets
