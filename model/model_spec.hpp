// What a manager uploads to create a model (the paper's step 1): a name, the
// architecture, the label list and the training recipe.
#pragma once

#include <string>
#include <vector>

#include "model/architecture.hpp"
#include "model/recipe.hpp"

namespace fedhub {

struct ModelSpec {
  std::string name;
  Architecture architecture;
  std::vector<std::string> labels;
  Recipe recipe;
};

// Model names: 1-64 characters of [A-Za-z0-9._-], starting with a letter or
// digit. Returns an empty string when valid, else the reason.
std::string check_model_name(const std::string& name);

// Parses the three documents and checks that they fit together (the last
// layer has one output per label; the recipe's "freeze" names layers with
// parameters, which it marks trainable: false; at least one layer with
// parameters stays trainable). Throws std::invalid_argument.
ModelSpec make_model_spec(const std::string& name, const std::string& architecture_json,
                          const std::vector<std::string>& labels, const std::string& recipe_json);

}  // namespace fedhub
