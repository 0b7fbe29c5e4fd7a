// Local training of one round (the paper's step 2) and evaluation.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "datasets/dataset.hpp"
#include "model/architecture.hpp"
#include "model/recipe.hpp"
#include "model/tensor.hpp"

namespace fedhub::training {

using datasets::Dataset;

// Glorot-uniform kernels and zero biases (Keras' defaults), deterministic in seed.
Weights initialize_weights(const Architecture& arch, uint64_t seed);

struct TrainOptions {
  uint64_t seed = 1;  // draws the round's sample, the batch order and dropout masks
  int threads = 0;    // 0: all cores
  // Called every few steps and after the last one.
  std::function<void(int64_t step, int64_t steps, double running_loss)> progress;
};

struct TrainResult {
  Weights weights;      // the trained weights (same layout as the start)
  int64_t samples = 0;  // distinct samples trained on (FedAvg's n)
  double loss = 0;      // mean training loss over the round
  double accuracy = 0;  // training accuracy over the round
};

// Trains `start` with the recipe: draws a fresh random sample of
// recipe.samples_per_round examples (all of them when 0 or when the data is
// smaller), then runs recipe.steps optimizer steps of recipe.batch_size,
// reshuffling at each pass. A fresh optimizer state every round.
// Seeded runs are bit-for-bit reproducible on one machine.
TrainResult train_round(const Architecture& arch, const Recipe& recipe, const Weights& start, const Dataset& data,
                        const TrainOptions& options);

struct Evaluation {
  int64_t samples = 0;
  double loss = 0;                         // mean softmax cross-entropy
  double accuracy = 0;                     // fraction correct
  std::vector<int64_t> per_class_count;    // one per model label
  std::vector<double> per_class_accuracy;  // NaN where a class has no samples
};

Evaluation evaluate(const Architecture& arch, const Weights& weights, const Dataset& data, int threads = 0);

}  // namespace fedhub::training
