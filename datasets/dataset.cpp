#include "datasets/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "datasets/image_convert.hpp"
#include "datasets/source_spec.hpp"
#include "datasets/sources.hpp"
#include "model/tensor.hpp"

namespace fedhub::datasets {

void warn(const DataOptions& options, const std::string& message) {
  if (options.warn)
    options.warn(message);
  else
    std::cerr << "fedhub datasets: warning: " << message << "\n";
}

void report_progress(const DataOptions& options, int64_t done, int64_t total) {
  if (options.progress) options.progress(done, total);
}

Dataset load_dataset(const std::string& source, const DataOptions& options) {
  const SourceSpec spec = parse_source_spec(source);
  check_target_shape(options.input_shape);
  if (options.model_labels.empty())
    throw std::runtime_error(source + ": the model has no labels to map the data's classes onto");
  Dataset data;
  if (spec.kind == "idx")
    data = load_idx(spec, options, source);
  else if (spec.kind == "cifar")
    data = load_cifar(spec, options, source);
  else
    data = load_folder(spec, options, source);
  if (data.size() == 0)
    throw std::runtime_error(source + ": no images were loaded" +
                             (spec.classes.empty() ? std::string() : " of the classes listed"));
  return data;
}

Dataset subset(const Dataset& data, std::span<const int64_t> indices) {
  const int64_t n = data.size(), size = data.sample_size();
  Dataset out;
  out.sample_shape = data.sample_shape;
  out.labels.resize(indices.size());
  out.pixels.resize(indices.size() * static_cast<size_t>(size));
  for (size_t j = 0; j < indices.size(); ++j) {
    const int64_t i = indices[j];
    if (i < 0 || i >= n)
      throw std::runtime_error("subset: index " + std::to_string(i) + " (position " + std::to_string(j) +
                               ") is outside the data set of " + std::to_string(n) + " samples");
    out.labels[j] = data.labels[static_cast<size_t>(i)];
    std::memcpy(out.pixels.data() + j * static_cast<size_t>(size), data.pixels.data() + i * size,
                static_cast<size_t>(size));
  }
  return out;
}

std::vector<int64_t> count_per_label(const Dataset& data, int64_t num_labels) {
  int64_t entries = std::max<int64_t>(num_labels, 0);
  for (const int32_t label : data.labels) entries = std::max<int64_t>(entries, int64_t{label} + 1);
  std::vector<int64_t> counts(static_cast<size_t>(entries), 0);
  for (const int32_t label : data.labels)
    if (label >= 0) ++counts[static_cast<size_t>(label)];
  return counts;
}

std::string describe_dataset(const Dataset& data, const std::vector<std::string>& model_labels) {
  const auto counts = count_per_label(data, static_cast<int64_t>(model_labels.size()));
  const auto present = std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
  size_t width = 0;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) width = std::max(width, i < model_labels.size() ? model_labels[i].size() : 12);
  std::ostringstream out;
  out << data.size() << " images of " << shape_to_string(data.sample_shape) << ", " << present << " of "
      << model_labels.size() << " labels\n";
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    std::string name = i < model_labels.size() ? model_labels[i] : "label " + std::to_string(i) + "?";
    name.resize(std::max(width, name.size()), ' ');
    out << "  " << name << "  " << counts[i] << "\n";
  }
  return out.str();
}

}  // namespace fedhub::datasets
