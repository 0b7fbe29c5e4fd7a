// A model's label list: one class name per line, in output order.
#pragma once

#include <string>
#include <vector>

namespace fedhub {

// Splits text into labels: one per line, surrounding whitespace trimmed, empty
// lines and lines starting with '#' skipped. Throws std::invalid_argument on a
// duplicate label or when no label is left.
std::vector<std::string> parse_labels(const std::string& text);

// Reads and parses a label file; throws std::runtime_error naming the path.
std::vector<std::string> read_labels_file(const std::string& path);

// The key labels are matched by: lower case, letters and digits only, and the
// part before a '/' ("T-shirt/top" -> "tshirt", "Ankle boot" -> "ankleboot").
std::string label_key(const std::string& name);

// Index of `name` in `labels` by label_key, or -1.
int find_label(const std::vector<std::string>& labels, const std::string& name);

}  // namespace fedhub
