// The training recipe: how a participant trains one round, in JSON, e.g.
//
//   {"optimizer":{"name":"adam","learning_rate":0.001},
//    "batch_size":32,"steps":200,"samples_per_round":6400,
//    "freeze":["conv2d","conv2d_1"]}
//
// Optimizers: "adam" (Keras defaults lr 1e-3, beta1 0.9, beta2 0.999,
// epsilon 1e-7) and "sgd" (momentum, nesterov); both take "weight_decay".
// A fresh optimizer state is used every round, as in the paper.
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

struct Recipe {
  OptimizerConfig optimizer;
  int64_t batch_size = 32;
  int64_t steps = 200;               // optimizer steps per round
  int64_t samples_per_round = 6400;  // fresh random sample drawn every round (0 = all data)
  uint64_t seed = 0;                 // 0: a participant picks its own seed per round
  // Layers (by name) whose parameters are not trained: make_model_spec marks
  // them "trainable": false in the architecture (model/trainable_slice.hpp).
  std::vector<std::string> freeze;

  // Canonical JSON with every default written out ("freeze" when not empty).
  std::string to_json() const;
};

// Parses a recipe; unknown optimizer names, non-positive sizes and unknown
// fields are std::invalid_argument naming the field.
Recipe parse_recipe(const std::string& json);

}  // namespace fedhub
