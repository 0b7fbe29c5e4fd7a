#include "datasets/source_spec.hpp"

#include <stdexcept>

namespace fedhub::datasets {
namespace {

constexpr const char* kUsage =
    "expected KIND:PATH[:CLASSES] with KIND idx, cifar or folder, e.g. "
    "\"idx:/usr/share/datasets/fashion-mnist/train\", \"cifar:DIR/test_batch.bin:0,1\", \"folder:DIR:cat,dog\"";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

SourceSpec parse_source_spec(const std::string& source) {
  const auto colon = source.find(':');
  if (colon == std::string::npos) throw std::runtime_error("data source '" + source + "': no kind; " + kUsage);
  SourceSpec spec;
  spec.kind = source.substr(0, colon);
  if (spec.kind != "idx" && spec.kind != "cifar" && spec.kind != "folder")
    throw std::runtime_error("data source '" + source + "': unknown kind '" + spec.kind + "'; " + kUsage);
  std::string rest = source.substr(colon + 1);
  std::string classes;
  if (const auto last = rest.rfind(':'); last != std::string::npos) {
    classes = rest.substr(last + 1);
    rest.resize(last);
  }
  spec.path = rest;
  if (spec.path.empty()) throw std::runtime_error("data source '" + source + "': the path is empty; " + kUsage);
  if (trim(classes).empty()) return spec;
  size_t begin = 0;
  while (true) {
    const auto comma = classes.find(',', begin);
    auto token = trim(classes.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (token.empty())
      throw std::runtime_error("data source '" + source + "': empty entry in the class list '" + classes +
                               "'; list classes separated by single commas, e.g. 0,1,2");
    spec.classes.push_back(std::move(token));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return spec;
}

}  // namespace fedhub::datasets
