// The training recipe: how a participant trains one round, in JSON, e.g.
//
//   {"optimizer":{"name":"adam","learning_rate":0.001},
//    "batch_size":32,"steps":200,"samples_per_round":6400,
//    "freeze":["conv2d","conv2d_1"],
//    "learning_rate_schedule":[{"from_version":30,"learning_rate":0.0003}]}
//
// Optimizers: "adam" (Keras defaults lr 1e-3, beta1 0.9, beta2 0.999,
// epsilon 1e-7) and "sgd" (momentum, nesterov); both take "weight_decay".
// A fresh optimizer state is used every round, as in the paper.
//
// "learning_rate_schedule" lowers (or raises) the optimizer's learning rate
// from a model version on: a participant training version V uses the
// learning_rate of the last step whose from_version <= V, and the
// optimizer's own before the first step (a step decay over merges, as the
// per-round client learning rates of Reddi et al. 2021 and Flower's
// on_fit_config_fn; docs/models.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedhub {

struct OptimizerConfig {
  std::string name = "adam";  // "adam" | "sgd"
  double learning_rate = 1e-3;
  double momentum = 0.0;  // sgd
  bool nesterov = false;  // sgd
  double beta1 = 0.9;     // adam
  double beta2 = 0.999;   // adam
  double epsilon = 1e-7;  // adam
  double weight_decay = 0.0;
};

struct LearningRateStep {
  uint64_t from_version = 1;  // >= 1; strictly increasing along the schedule
  double learning_rate = 1e-3;
};

struct Recipe {
  OptimizerConfig optimizer;
  int64_t batch_size = 32;
  int64_t steps = 200;               // optimizer steps per round
  int64_t samples_per_round = 6400;  // fresh random sample drawn every round (0 = all data)
  uint64_t seed = 0;                 // 0: a participant picks its own seed per round
  // Layers (by name) whose parameters are not trained: make_model_spec marks
  // them "trainable": false in the architecture (model/trainable_slice.hpp).
  std::vector<std::string> freeze;
  std::vector<LearningRateStep> learning_rate_schedule;

  // The optimizer's learning rate for a participant training `base_version`.
  double learning_rate_at(uint64_t base_version) const;
  // This recipe with optimizer.learning_rate set to learning_rate_at(base_version):
  // what train_round runs for that version.
  Recipe for_version(uint64_t base_version) const;

  // Canonical JSON with every default written out ("freeze" and
  // "learning_rate_schedule" when not empty).
  std::string to_json() const;
};

// Parses a recipe; unknown optimizer names, non-positive sizes and unknown
// fields are std::invalid_argument naming the field.
Recipe parse_recipe(const std::string& json);

}  // namespace fedhub
