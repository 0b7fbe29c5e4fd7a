// fedhub-data-info: loads a data source as a participant would and prints
// its classes and the load time.
//
//   fedhub-data-info SOURCE [--shape 32,32,3] [--model-labels FILE]
//                    [--data-labels FILE] [--threads N]
//
// The model labels default to config/paper-20-labels.txt of the source tree.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "datasets/dataset.hpp"
#include "model/labels.hpp"

namespace {

int usage() {
  std::cerr << "usage: fedhub-data-info SOURCE [--shape 32,32,3] [--model-labels FILE] [--data-labels FILE] "
               "[--threads N]\n  SOURCE: idx:PREFIX[:CLASSES] | cifar:DIR|FILE.bin[:CLASSES] | folder:DIR[:CLASSES]\n";
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
  std::string source, model_labels = FEDHUB_DEFAULT_LABELS;
  DataOptions options;
  options.input_shape = {32, 32, 3};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--shape" && has_value)
      options.input_shape = parse_shape(argv[++i]);
    else if (arg == "--model-labels" && has_value)
      model_labels = argv[++i];
    else if (arg == "--data-labels" && has_value)
      options.labels_file = argv[++i];
    else if (arg == "--threads" && has_value)
      options.threads = std::atoi(argv[++i]);
    else if (source.empty() && !arg.starts_with("--"))
      source = arg;
    else
      return usage();
  }
  if (source.empty()) return usage();
  try {
    options.model_labels = fedhub::read_labels_file(model_labels);
    options.warn = [](const std::string& m) { std::cerr << "warning: " << m << "\n"; };
    options.progress = [](int64_t done, int64_t total) { std::cerr << "\r" << done << " / " << total << std::flush; };
    const auto start = std::chrono::steady_clock::now();
    const Dataset data = load_dataset(source, options);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::cerr << "\n";
    std::cout << describe_dataset(data, options.model_labels) << "loaded in " << took.count() << " s\n";
  } catch (const std::exception& e) {
    std::cerr << "\nerror: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
