#include "apps/local_model.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace fedhub::cli {

datasets::Dataset load_data_for(const ModelSpec& spec, const std::string& source, const std::string& labels_file,
                                bool verbose) {
  datasets::DataOptions opts;
  opts.input_shape = spec.architecture.input;
  opts.model_labels = spec.labels;
  opts.labels_file = labels_file;
  opts.warn = [](const std::string& w) { std::cerr << "warning: " << w << "\n"; };
  auto data = datasets::load_dataset(source, opts);
  if (data.size() == 0) throw std::runtime_error("the data source '" + source + "' holds no samples");
  if (verbose) std::cerr << "loaded " << data.size() << " samples from " << source << "\n";
  return data;
}

nlohmann::json evaluation_json(const training::Evaluation& e, const std::vector<std::string>& labels) {
  nlohmann::json j{{"samples", e.samples}, {"accuracy", e.accuracy}, {"loss", e.loss}};
  nlohmann::json per = nlohmann::json::array();
  for (size_t c = 0; c < e.per_class_count.size() && c < labels.size(); ++c) {
    nlohmann::json row{{"label", labels[c]}, {"samples", e.per_class_count[c]}};
    row["accuracy"] =
        std::isnan(e.per_class_accuracy[c]) ? nlohmann::json(nullptr) : nlohmann::json(e.per_class_accuracy[c]);
    per.push_back(row);
  }
  j["per_class"] = per;
  return j;
}

std::string evaluation_text(const training::Evaluation& e, const std::vector<std::string>& labels) {
  char line[256];
  std::snprintf(line, sizeof line, "accuracy %.4f  loss %.4f  on %lld samples\n", e.accuracy, e.loss,
                static_cast<long long>(e.samples));
  std::string out = line;
  for (size_t c = 0; c < e.per_class_count.size() && c < labels.size(); ++c) {
    if (e.per_class_count[c] == 0) continue;
    std::snprintf(line, sizeof line, "  %-14s %6.4f  (%lld samples)\n", labels[c].c_str(), e.per_class_accuracy[c],
                  static_cast<long long>(e.per_class_count[c]));
    out += line;
  }
  return out;
}

}  // namespace fedhub::cli
