// Evaluations of one model version on several evaluation sets, shared by the
// in-process simulation (sim/simulation.hpp) and the runs with real
// participant processes (sim/process_crowd.hpp). Pure: no actor system.
#pragma once

#include <vector>

#include "training/trainer.hpp"

namespace fedhub::sim {

// Several evaluations as one: the sample-weighted loss and accuracy over
// every part, and per-class accuracies weighted by each part's class counts
// (NaN for a class no part holds). An empty list gives zero samples.
training::Evaluation combine(const std::vector<training::Evaluation>& parts);

}  // namespace fedhub::sim
