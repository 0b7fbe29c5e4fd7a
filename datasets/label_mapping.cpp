#include "datasets/label_mapping.hpp"

#include <algorithm>
#include <stdexcept>

#include "model/labels.hpp"

namespace fedhub::datasets {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "'" : ", '") + item + "'";
  return text;
}

std::string available(const SourceClasses& classes) {
  if (classes.names.empty()) return "class indices 0.." + std::to_string(classes.count - 1);
  std::string text = "classes ";
  for (int64_t i = 0; i < classes.count; ++i)
    text += (i ? ", " : "") + std::to_string(i) + " '" + classes.names[static_cast<size_t>(i)] + "'";
  return text;
}

int64_t find_class(const std::string& token, const SourceClasses& classes) {
  const auto& names = classes.names;
  if (!names.empty()) {
    if (auto it = std::find(names.begin(), names.end(), token); it != names.end()) return it - names.begin();
    if (const int i = find_label(names, token); i >= 0 && !label_key(token).empty()) return i;
  }
  if (all_digits(token)) {
    const int64_t i = std::stoll(token);
    if (i < classes.count) return i;
  }
  return -1;
}

}  // namespace

std::vector<bool> select_classes(const std::vector<std::string>& tokens, const SourceClasses& classes,
                                 const std::string& source) {
  std::vector<bool> keep(static_cast<size_t>(classes.count), tokens.empty());
  std::vector<std::string> unknown;
  for (const auto& token : tokens) {
    const int64_t i = find_class(token, classes);
    if (i < 0)
      unknown.push_back(token);
    else
      keep[static_cast<size_t>(i)] = true;
  }
  if (!unknown.empty())
    throw std::runtime_error(source + ": the class list names " + quoted_list(unknown) +
                             ", which the source does not have; it has " + available(classes) +
                             (classes.names.empty() ? " (names need a labels file, --data-labels)" : ""));
  return keep;
}

std::vector<int32_t> map_classes(const SourceClasses& classes, const std::vector<bool>& keep,
                                 const std::vector<std::string>& model_labels, const std::string& source) {
  std::vector<int32_t> to_model(static_cast<size_t>(classes.count), -1);
  std::vector<std::string> missing;
  const auto model_list = [&] {
    std::string text;
    for (const auto& l : model_labels) text += (text.empty() ? "" : ", ") + l;
    return text;
  };
  for (int64_t i = 0; i < classes.count; ++i) {
    if (!keep[static_cast<size_t>(i)]) continue;
    if (classes.names.empty()) {
      if (i < static_cast<int64_t>(model_labels.size()))
        to_model[static_cast<size_t>(i)] = static_cast<int32_t>(i);
      else
        missing.push_back(std::to_string(i));
      continue;
    }
    const auto& name = classes.names[static_cast<size_t>(i)];
    const int label = find_label(model_labels, name);
    if (label < 0)
      missing.push_back(name);
    else
      to_model[static_cast<size_t>(i)] = label;
  }
  if (missing.empty()) return to_model;
  if (classes.names.empty())
    throw std::runtime_error(
        source + ": the source has " + std::to_string(classes.count) + " classes but the model only " +
        std::to_string(model_labels.size()) +
        " labels, and without class names class i is label i: " + (missing.size() == 1 ? "class " : "classes ") +
        quoted_list(missing) + (missing.size() == 1 ? " has" : " have") +
        " no label; give the class names in a labels file (--data-labels) or keep fewer classes "
        "with :CLASSES");
  const std::string from = classes.names_from.empty() ? "" : " (names from " + classes.names_from + ")";
  const bool one = missing.size() == 1;
  throw std::runtime_error(source + (one ? ": class " : ": classes ") + quoted_list(missing) + from +
                           (one ? " is" : " are") + " not among the model's labels (" + model_list() + "); rename " +
                           (one ? "it" : "them") + " or leave " + (one ? "it" : "them") + " out with :CLASSES");
}

std::vector<std::string> index_source_names(const DataOptions& options) {
  if (options.labels_file.empty()) return {};
  return read_labels_file(options.labels_file);
}

}  // namespace fedhub::datasets
