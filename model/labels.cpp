#include "model/labels.hpp"

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fedhub {

std::vector<std::string> parse_labels(const std::string& text) {
  std::vector<std::string> labels;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    auto e = line.find_last_not_of(" \t\r");
    std::string name = line.substr(b, e - b + 1);
    if (label_key(name).empty()) throw std::invalid_argument("labels: '" + name + "' has no letters or digits");
    if (find_label(labels, name) >= 0)
      throw std::invalid_argument("labels: '" + name + "' appears twice (labels are compared by letters and digits)");
    labels.push_back(std::move(name));
  }
  if (labels.empty()) throw std::invalid_argument("labels: the list is empty");
  return labels;
}

std::vector<std::string> read_labels_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read label file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return parse_labels(ss.str());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::string label_key(const std::string& name) {
  std::string key;
  for (char c : name.substr(0, name.find('/')))
    if (std::isalnum(static_cast<unsigned char>(c)))
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

int find_label(const std::vector<std::string>& labels, const std::string& name) {
  const auto key = label_key(name);
  for (size_t i = 0; i < labels.size(); ++i)
    if (label_key(labels[i]) == key) return static_cast<int>(i);
  return -1;
}

}  // namespace fedhub
