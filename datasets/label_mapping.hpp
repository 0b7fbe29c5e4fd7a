// Mapping a source's classes onto the model's labels, and the CLASSES filter
// (the rules are in dataset.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"

namespace fedhub::datasets {

// What a source knows about its classes.
struct SourceClasses {
  int64_t count = 0;               // source class indices are 0 .. count-1
  std::vector<std::string> names;  // count names, or empty for an index-labelled source
  std::string names_from;          // where the names come from (for messages), e.g. a file
};

// Which source classes `tokens` (the CLASSES of a source string) keep: all
// when empty. A token is a class name (exact, then by label_key) when
// `classes.names` is known, else or otherwise a class index. Throws
// std::runtime_error naming every token that is no class of `source`.
std::vector<bool> select_classes(const std::vector<std::string>& tokens, const SourceClasses& classes,
                                 const std::string& source);

// For every source class its model label, or -1 when `keep` drops it.
// Named classes map with fedhub::find_label and every kept name the model
// lacks is reported in one error; unnamed classes map index to index and a
// kept index >= model_labels.size() is an error.
std::vector<int32_t> map_classes(const SourceClasses& classes, const std::vector<bool>& keep,
                                 const std::vector<std::string>& model_labels, const std::string& source);

// Class names for an index-labelled source: those of options.labels_file, or
// none (index to index) when no labels file is given.
std::vector<std::string> index_source_names(const DataOptions& options);

}  // namespace fedhub::datasets
