// Validation of a Dataset against the model it is used with.
#pragma once

#include <string>

#include "datasets/dataset.hpp"
#include "model/architecture.hpp"

namespace fedhub::training {

// Throws std::invalid_argument "<what>: ..." when the samples' shape differs
// from the model input, the pixel buffer has the wrong size, or a label is
// outside [0, arch.output_size()) (naming the first such sample).
void check_dataset(const Architecture& arch, const datasets::Dataset& data, const std::string& what);

}  // namespace fedhub::training
