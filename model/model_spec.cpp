#include "model/model_spec.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fedhub {

std::string check_model_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return "a model name has 1 to 64 characters";
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return "a model name starts with a letter or digit";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return std::string("a model name holds only letters, digits, '.', '_' and '-', not '") + c + "'";
  return {};
}

ModelSpec make_model_spec(const std::string& name, const std::string& architecture_json,
                          const std::vector<std::string>& labels, const std::string& recipe_json) {
  if (auto why = check_model_name(name); !why.empty()) throw std::invalid_argument("model name '" + name + "': " + why);
  ModelSpec spec{name, parse_architecture(architecture_json), labels, parse_recipe(recipe_json)};
  if (labels.empty()) throw std::invalid_argument("the label list is empty");
  if (spec.architecture.output_size() != static_cast<int64_t>(labels.size()))
    throw std::invalid_argument("the architecture has " + std::to_string(spec.architecture.output_size()) +
                                " outputs but the label list has " + std::to_string(labels.size()) +
                                " labels: the last layer needs one unit per label");
  for (const auto& name : spec.recipe.freeze) {
    auto it = std::find_if(spec.architecture.layers.begin(), spec.architecture.layers.end(),
                           [&](const Layer& l) { return l.name == name; });
    if (it == spec.architecture.layers.end() || it->parameters().empty()) {
      std::string with;
      for (const auto& l : spec.architecture.layers)
        if (!l.parameters().empty()) with += (with.empty() ? "'" : ", '") + l.name + "'";
      throw std::invalid_argument(
          "recipe: 'freeze' names layer '" + name + "', which " +
          (it == spec.architecture.layers.end() ? "the architecture does not have" : "has no parameters") +
          " (layers with parameters: " + with + ")");
    }
    it->trainable = false;
  }
  bool any = false;
  for (const auto& l : spec.architecture.layers) any = any || (l.trainable && !l.parameters().empty());
  if (!any) throw std::invalid_argument("every layer with parameters is frozen: there is nothing to train");
  return spec;
}

}  // namespace fedhub
