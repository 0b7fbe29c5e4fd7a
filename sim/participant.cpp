#include "sim/participant.hpp"

#include <cmath>
#include <random>
#include <stdexcept>

#include "training/trainer.hpp"

namespace fedhub::sim {

Behaviour::~Behaviour() = default;

LocalTraining::LocalTraining(std::shared_ptr<const datasets::Dataset> data, int64_t samples_per_round)
    : data_(std::move(data)), samples_per_round_(samples_per_round) {
  if (!data_ || data_->size() == 0) throw std::invalid_argument("LocalTraining: a participant needs data");
  if (samples_per_round < 0) throw std::invalid_argument("LocalTraining: samples_per_round must be >= 0");
}

TrainingOutput LocalTraining::train(const TrainingTask& task) {
  training::TrainOptions opts;
  opts.seed = task.seed;
  opts.threads = task.threads;
  const auto& spec = task.model.spec;
  auto recipe = spec.recipe.for_version(task.model.version);  // its learning-rate schedule applied
  if (samples_per_round_ > 0) recipe.samples_per_round = samples_per_round_;
  auto r = training::train_round(spec.architecture, recipe, task.model.weights, *data_, opts);
  return {std::move(r.weights),
          static_cast<uint64_t>(r.samples),
          {{"loss", r.loss}, {"accuracy", r.accuracy}},
          spec.recipe.steps};
}

AddNoise::AddNoise(double std, uint64_t num_samples) : std_(std), num_samples_(num_samples) {
  if (!(std >= 0) || !std::isfinite(std)) throw std::invalid_argument("AddNoise: std must be finite and >= 0");
}

TrainingOutput AddNoise::train(const TrainingTask& task) {
  auto w = task.model.weights;
  std::mt19937_64 rng(task.seed);
  std::normal_distribution<float> noise(0.0f, static_cast<float>(std_));
  for (auto& t : w)
    for (auto& v : t.values) v += noise(rng);
  return {std::move(w), num_samples_, {}, task.model.spec.recipe.steps};
}

datasets::Dataset flip_labels(const datasets::Dataset& data, int32_t labels) {
  auto flipped = data;
  for (auto& l : flipped.labels) {
    if (l < 0 || l >= labels)
      throw std::invalid_argument("flip_labels: a label is outside 0.." + std::to_string(labels - 1));
    l = labels - 1 - l;
  }
  return flipped;
}

}  // namespace fedhub::sim
