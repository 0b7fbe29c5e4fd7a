// What a simulated participant does with a version it downloaded: the part
// of a simulation a researcher replaces. The simulation (sim/simulation.hpp)
// downloads the version through the participant's own client, calls train(),
// and uploads what it returns through the same client at the virtual time
// its speed gives; the hub checks, accepts or refuses it like any upload.
//
// An honest participant trains on its own data with the model's recipe
// (LocalTraining). Others are a subclass away, e.g. one that sends noise, or
// one that trains on flipped labels:
//
//   class Noise : public fedhub::sim::Behaviour {
//     fedhub::sim::TrainingOutput train(const fedhub::sim::TrainingTask& t) override {
//       auto w = t.model.weights;
//       std::mt19937 rng(t.seed);
//       std::normal_distribution<float> n(0, 1);
//       for (auto& tensor : w) for (auto& v : tensor.values) v = n(rng);
//       return {std::move(w), 6400, {}, t.model.spec.recipe.steps};
//     }
//   };
//
// train() runs one participant at a time on the simulation's thread, using
// TrainingTask::threads cores; with SimulationOptions::trainers > 1, several
// participants' train() run at once on threads of their own (each object is
// called by one thread at a time; data shared between participants must be
// read-only).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "datasets/dataset.hpp"
#include "messages/model_package.hpp"

namespace fedhub::sim {

struct TrainingTask {
  const LoadedModel& model;  // the downloaded version: spec (recipe, labels), version, weights
  uint64_t round = 0;        // this participant's rounds so far (0, 1, ...)
  uint64_t seed = 0;         // for its randomness: fixed by the simulation's seed, the participant and round
  int threads = 0;           // for its computation (0: every core)
};

struct TrainingOutput {
  Weights weights;                                      // the model's layout (the hub refuses another)
  uint64_t num_samples = 0;                             // FedAvg's n, as the participant claims it
  std::vector<std::pair<std::string, double>> metrics;  // e.g. {"loss", 0.4}
  int64_t steps = 0;                                    // the work done, in recipe steps: sets its virtual compute time
};

class Behaviour {
 public:
  virtual ~Behaviour();
  virtual TrainingOutput train(const TrainingTask& task) = 0;
};

// An honest participant: training::train_round on its data with the model's
// recipe and the task's seed; metrics "loss" and "accuracy" of the round.
// samples_per_round > 0 replaces the recipe's fresh sample size for this
// participant (a participant with less data, or more).
class LocalTraining : public Behaviour {
 public:
  explicit LocalTraining(std::shared_ptr<const datasets::Dataset> data, int64_t samples_per_round = 0);
  TrainingOutput train(const TrainingTask& task) override;
  const datasets::Dataset& data() const { return *data_; }

 private:
  std::shared_ptr<const datasets::Dataset> data_;
  int64_t samples_per_round_ = 0;
};

// A participant that sends the version it got plus Gaussian noise of
// standard deviation `std` on every weight, claiming `num_samples`: the
// classic Byzantine baseline of robustness studies.
class AddNoise : public Behaviour {
 public:
  explicit AddNoise(double std, uint64_t num_samples = 6400);
  TrainingOutput train(const TrainingTask& task) override;

 private:
  double std_;
  uint64_t num_samples_;
};

// The data with every label l replaced by labels - 1 - l (a label-flipping
// participant trains honestly on it).
datasets::Dataset flip_labels(const datasets::Dataset& data, int32_t labels);

}  // namespace fedhub::sim
