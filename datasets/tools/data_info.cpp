// fedhub-data-info: loads a data source as a participant would and prints
// what it holds (its shape, its classes and their counts) and the load time.
//
// By default the source is described in its own terms: its images' shape
// and its own classes (datasets/probe.hpp), e.g. Fashion-MNIST as [28,28,1]
// with its ten labels. --shape and --model-labels show it as a model would
// see it instead; --paper as the paper experiment's SIMPLE-CNN does
// ([32,32,3] and the 20 labels of config/paper-20-labels.txt).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "datasets/dataset.hpp"
#include "datasets/probe.hpp"
#include "model/labels.hpp"

namespace {

const char* kUsage =
    "Usage: fedhub-data-info SOURCE [--shape H,W,C | --shape D] [--model-labels FILE] [--paper]\n"
    "                        [--data-labels FILE] [--threads N]\n"
    "\n"
    "Loads a data source as fl-participant would and prints its samples, their shape, the\n"
    "samples per class and the load time.\n"
    "  SOURCE              idx:PREFIX[:CLASSES] | cifar:DIR|FILE.bin[:CLASSES] | folder:DIR[:CLASSES]\n"
    "                      (docs/models.md), e.g. idx:/usr/share/datasets/fashion-mnist/t10k\n"
    "  --shape S           convert the images to a model's input shape (default: the source's own)\n"
    "  --model-labels FILE map the classes onto a model's labels (default: the source's own classes)\n"
    "  --paper             the paper experiment's model: --shape 32,32,3 and its 20 labels\n"
    "  --data-labels FILE  class names of an index-labelled source (IDX, CIFAR without batches.meta.txt)\n"
    "  --threads N         decoding threads (default: one per core)\n"
    "  -h, --help          this help\n"
    "Exit status: 0 done, 1 the source cannot be loaded, 2 bad usage.\n";

int usage_error(const std::string& why) {
  std::cerr << "fedhub-data-info: " << why << "\n(see fedhub-data-info --help)\n";
  return 2;
}

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t begin = 0;
  while (begin <= text.size()) {
    const auto comma = text.find(',', begin);
    shape.push_back(std::stoll(text.substr(begin, comma - begin)));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return shape;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fedhub::datasets;
  std::string source, model_labels, shape_text;
  bool paper = false;
  DataOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--shape" && has_value) {
      shape_text = argv[++i];
    } else if (arg == "--model-labels" && has_value) {
      model_labels = argv[++i];
    } else if (arg == "--paper") {
      paper = true;
    } else if (arg == "--data-labels" && has_value) {
      options.labels_file = argv[++i];
    } else if (arg == "--threads" && has_value) {
      options.threads = std::atoi(argv[++i]);
    } else if (source.empty() && !arg.starts_with("-")) {
      source = arg;
    } else {
      return usage_error(arg.starts_with("-") ? "unknown option or missing value: " + arg : "one SOURCE only");
    }
  }
  if (source.empty()) return usage_error("no SOURCE given");
  try {
    if (paper) {
      if (shape_text.empty()) shape_text = "32,32,3";
      if (model_labels.empty()) model_labels = FEDHUB_PAPER_LABELS;
    }
    if (!shape_text.empty()) {
      try {
        options.input_shape = parse_shape(shape_text);
      } catch (const std::exception&) {
        return usage_error("--shape is H,W,C or D, not '" + shape_text + "'");
      }
    }
    if (options.input_shape.empty() || model_labels.empty()) {
      const SourceInfo info = probe_source(source, options.labels_file);
      if (options.input_shape.empty()) options.input_shape = info.shape;
      if (model_labels.empty()) {
        options.model_labels = info.labels;
        std::cout << "classes: " << info.labels.size() << " from " << info.labels_from << "\n";
      }
    }
    if (!model_labels.empty()) {
      options.model_labels = fedhub::read_labels_file(model_labels);
      std::cout << "classes: mapped onto the " << options.model_labels.size() << " labels of " << model_labels << "\n";
    }
    options.warn = [](const std::string& m) { std::cerr << "warning: " << m << "\n"; };
    const bool tty = isatty(2);
    if (tty)
      options.progress = [](int64_t done, int64_t total) { std::cerr << "\r" << done << " / " << total << std::flush; };
    const auto start = std::chrono::steady_clock::now();
    const Dataset data = load_dataset(source, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (tty) std::cerr << "\r" << std::string(24, ' ') << "\r" << std::flush;
    std::cout << describe_dataset(data, options.model_labels) << "loaded in " << took.count() << " s\n";
  } catch (const std::exception& e) {
    std::cerr << "fedhub-data-info: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
