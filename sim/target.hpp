// When a run has reached a target accuracy. A noisy curve (asynchronous
// merges make one version per few contributions, each pulled toward the
// data of the last participants) crosses a line long before it stays above
// it; so a target counts as reached when the mean accuracy of the last
// `window` versions is at or above it (window 1: the first crossing).
#pragma once

#include <optional>
#include <vector>

#include "sim/simulation.hpp"

namespace fedhub::sim {

// True when the last `window` results (all of them, when fewer) average at
// least `target` on every evaluation set together. False for NaN targets
// and empty results.
bool reached_target(const std::vector<VersionResult>& results, double target, int window = 1);

// The virtual time of the first version at which reached_target held for
// the results up to it, if any.
std::optional<double> time_to_target(const std::vector<VersionResult>& results, double target, int window = 1);

}  // namespace fedhub::sim
