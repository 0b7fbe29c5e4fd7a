// What the programs do with models locally: read model files, load the data a
// model can train or be evaluated on, print evaluations.
#pragma once

#include <boost/program_options/variables_map.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/dataset.hpp"
#include "messages/model_package.hpp"
#include "training/trainer.hpp"

namespace fedhub::cli {

// Loads --data sources for a model (several are concatenated): converted to
// its input shape, labels mapped onto its label list; labels_file names the
// classes of index-labelled sources. Skipped files are reported on stderr.
datasets::Dataset load_data_for(const ModelSpec& spec, const std::vector<std::string>& sources,
                                const std::string& labels_file, bool verbose = true);

// The values of a repeatable option; UsageError naming it when absent.
std::vector<std::string> sources_of(const boost::program_options::variables_map& vm, const char* option,
                                    const char* command);

// Accuracy, loss and per-class accuracy as JSON.
nlohmann::json evaluation_json(const training::Evaluation& e, const std::vector<std::string>& labels);

// A readable report of an evaluation: totals, then one line per class.
std::string evaluation_text(const training::Evaluation& e, const std::vector<std::string>& labels);

}  // namespace fedhub::cli
