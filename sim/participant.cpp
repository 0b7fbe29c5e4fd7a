#include "sim/participant.hpp"

#include <stdexcept>

#include "training/trainer.hpp"

namespace fedhub::sim {

Behaviour::~Behaviour() = default;

LocalTraining::LocalTraining(std::shared_ptr<const datasets::Dataset> data) : data_(std::move(data)) {
  if (!data_ || data_->size() == 0) throw std::invalid_argument("LocalTraining: a participant needs data");
}

TrainingOutput LocalTraining::train(const TrainingTask& task) {
  training::TrainOptions opts;
  opts.seed = task.seed;
  opts.threads = task.threads;
  const auto& spec = task.model.spec;
  auto r = training::train_round(spec.architecture, spec.recipe, task.model.weights, *data_, opts);
  return {std::move(r.weights),
          static_cast<uint64_t>(r.samples),
          {{"loss", r.loss}, {"accuracy", r.accuracy}},
          spec.recipe.steps};
}

}  // namespace fedhub::sim
