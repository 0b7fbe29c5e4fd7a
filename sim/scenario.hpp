// A simulation described in a file: what `fl-sim --scenario FILE` runs
// (docs/simulation.md has the format with examples; scenarios/ holds some).
//
//   {
//     "name": "paper",
//     "model": {"architecture": "../config/simple-cnn-20.arch.json",   // a file or the JSON itself
//               "labels": "../config/paper-20-labels.txt",             // a file (one per line) or a list
//               "recipe": {"optimizer": {"name": "adam", "learning_rate": 0.001},
//                          "batch_size": 32, "steps": 200, "samples_per_round": 6400},
//               "init_seed": 1,                                        // random version 0, or
//               "weights": "pretrained.fhc", "weights_layout": "keras"}, // version 0 from a file
//     "data": {"fmnist-train": {"source": "idx:/usr/share/datasets/fashion-mnist/train",
//                               "labels_file": "../config/fashion-mnist-labels.txt"},
//              "cifar-train": {"source": "cifar10:train"}},               // found by fl-sim
//     "participants": [{"name": "fmnist", "count": 5, "data": "fmnist-train",
//                       "partition": {"kind": "shared"},                  // shared | iid | dirichlet
//                       "speed": 1, "speed_max": 10, "jitter": 0.1, "dropout": 0,
//                       "behaviour": "honest"}],                           // honest | noise | flip-labels
//     "merge": {"policy": {"merge": "manual"}, "min_contributions": 10, "merge_at": 0},
//     "run": {"rounds": 100, "virtual_seconds": 0, "seconds_per_step": 0.05, "seed": 1},
//     "evaluation": [{"name": "fashion-mnist", "data": "fmnist-test"}],
//     "baseline": "centralized",                                           // or "none" (default)
//     "variants": [{"name": "fedbuff", "merge": {"policy": {"merge": "buffered", "k": 3}}}],
//     "target_accuracy": 0.7
//   }
//
// Paths are relative to the scenario file's folder. Every field is checked:
// a wrong one is std::invalid_argument naming it by its path and saying what
// is expected ("participants[1].speed: expected a number > 0, got \"fast\"");
// unknown fields are refused with the known ones listed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/partition.hpp"

namespace fedhub::sim {

struct DataSourceSpec {
  std::string source;       // a data source string (datasets/dataset.hpp), or cifar10:train|test
  std::string labels_file;  // class names of an index-labelled source (resolved path), or empty
};

struct ParticipantGroup {
  std::string name;  // participants are NAME-1 .. NAME-count (NAME when count is 1)
  int count = 1;
  std::string data;  // a key of Scenario::data
  PartitionSpec partition;
  // Compute-time multipliers: with speed_max > speed, the group's speeds
  // spread geometrically from speed to speed_max (a 10x spread: 1 and 10).
  double speed = 1;
  double speed_max = 0;
  double jitter = 0;
  double dropout = 0;
  std::string behaviour = "honest";  // honest | noise | flip-labels
  double noise = 0.5;                // noise: std of the Gaussian added to each weight
  int64_t samples_per_round = 0;     // 0: the recipe's
};

struct MergeSpec {
  std::string name;         // the run's name (default: federation, or scenario beside variants)
  std::string policy_json;  // docs/aggregation.md; empty: manual, FedAvg
  uint32_t min_contributions = 1;
  uint32_t merge_at = 0;  // manual: merge when this many wait (0: every participant that took the version)
};

struct EvaluationSpec {
  std::string name;
  std::string data;  // a key of Scenario::data
};

struct Variant {
  std::string name;
  MergeSpec merge;
};

struct Scenario {
  std::string name;
  std::string model;  // the model's name on the hub (default: name)
  std::string architecture_json;
  std::vector<std::string> labels;
  std::string recipe_json;
  uint64_t init_seed = 1;
  // Version 0 from a weights file (formats/weights_file.hpp: a fedhub
  // package or result, safetensors, npz, ...) instead of init_seed; its
  // kernel layout "keras" or "torch". Empty: random from init_seed.
  std::string weights_path;
  std::string weights_layout = "keras";
  std::map<std::string, DataSourceSpec> data;
  std::vector<ParticipantGroup> participants;
  MergeSpec merge;
  uint64_t rounds = 10;
  double virtual_seconds = 0;
  double seconds_per_step = 0.05;
  uint64_t seed = 1;
  int trainers = 1;  // run.trainers: participants trained at once (SimulationOptions::trainers)
  std::vector<EvaluationSpec> evaluation;
  std::string baseline = "none";  // none | centralized
  // Runs of the same crowd under other merge policies (the first run is the
  // scenario's own merge); with target_accuracy, each is compared by the
  // virtual time it takes to reach it.
  std::vector<Variant> variants;
  std::optional<double> target_accuracy;
  // The target counts as reached when the mean accuracy of the last
  // target_window versions is at or above it (sim/target.hpp; 1: the first
  // crossing).
  int target_window = 1;
  bool stop_at_target = false;  // run.stop_at_target: each run ends when it reaches the target
};

// Reads and checks a scenario file. Throws std::invalid_argument naming the
// field (and the file), std::runtime_error when a file cannot be read.
Scenario load_scenario(const std::string& path);

// The same from JSON text; relative paths are taken from `folder`.
Scenario parse_scenario(const std::string& json_text, const std::string& folder, const std::string& where = "scenario");

}  // namespace fedhub::sim
