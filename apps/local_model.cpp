#include "apps/local_model.hpp"

#include "apps/cli.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace fedhub::cli {

datasets::Dataset load_data_for(const ModelSpec& spec, const std::vector<std::string>& sources,
                                const std::string& labels_file, bool verbose) {
  datasets::DataOptions opts;
  opts.input_shape = spec.architecture.input;
  opts.model_labels = spec.labels;
  opts.labels_file = labels_file;
  opts.warn = [](const std::string& w) { std::cerr << "warning: " << w << "\n"; };
  datasets::Dataset all;
  for (const auto& source : sources) {
    auto data = datasets::load_dataset(source, opts);
    if (data.size() == 0) throw std::runtime_error("the data source '" + source + "' holds no samples");
    if (verbose) std::cerr << "loaded " << data.size() << " samples from " << source << "\n";
    if (all.size() == 0) {
      all = std::move(data);
    } else {
      all.pixels.insert(all.pixels.end(), data.pixels.begin(), data.pixels.end());
      all.labels.insert(all.labels.end(), data.labels.begin(), data.labels.end());
    }
  }
  if (all.size() == 0) throw std::runtime_error("no data source given");
  return all;
}

std::vector<std::string> sources_of(const boost::program_options::variables_map& vm, const char* option,
                                    const char* command) {
  if (!vm.count(option)) throw UsageError(std::string(command) + " needs --" + option);
  return vm[option].as<std::vector<std::string>>();
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
