// Parsing of a data source string "KIND:PATH[:CLASSES]" (see dataset.hpp).
#pragma once

#include <string>
#include <vector>

namespace fedhub::datasets {

struct SourceSpec {
  std::string kind;                  // "idx", "cifar" or "folder"
  std::string path;                  // IDX prefix, CIFAR directory or .bin file, image folder
  std::vector<std::string> classes;  // the CLASSES tokens, trimmed; empty = all classes
};

// Splits `source` at the first ':' (kind) and the last ':' (classes). Throws
// std::runtime_error when the kind is missing or unknown, the path is empty,
// or CLASSES holds an empty entry ("0,,1").
SourceSpec parse_source_spec(const std::string& source);

}  // namespace fedhub::datasets
