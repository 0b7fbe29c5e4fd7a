// Runs a Scenario (sim/scenario.hpp): loads its data sources once, cuts each
// participant group's data (sim/partition.hpp), builds the participants
// (honest, noise, flip-labels) with their speeds, and runs a Simulation
// (sim/simulation.hpp) for the scenario's merge, then one per variant, then
// the centralized baseline when asked: one participant holding the union of
// every participant's data, trained from the same initial weights with the
// same number of images per round (the recipe's steps and samples times the
// number of participants), one version per round. With
// participants_as_processes the crowd is real fl-participant processes
// (sim/process_crowd.hpp) in real time.
#pragma once

#include <caf/actor_system.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

namespace fedhub::sim {

struct RunnerOptions {
  std::optional<uint64_t> rounds;  // override the scenario's
  std::optional<uint64_t> seed;
  std::optional<int> trainers;          // override run.trainers
  std::optional<std::string> baseline;  // none | centralized
  std::optional<std::string> weights;   // --weights: version 0 from this file (overrides model.weights)
  // Only these runs, by name: the scenario's merge (merge.name), a variant's
  // name, "centralized" (the baseline, if the scenario or `baseline` asks for
  // one). Empty: every run. An unknown name is refused before any data loads.
  std::vector<std::string> only;
  std::string cifar;  // --cifar (sim/cifar10.hpp)
  std::vector<std::string> cifar_search;
  std::string cache;  // extracted archives
  int threads = 0;
  // Real `fl-participant run` processes over loopback instead of in-process
  // participants, for the scenario's merge and every variant
  // (sim/process_crowd.hpp: what is supported and what is refused); the
  // centralized baseline stays in-process. Each run's process logs go into
  // process_logs/RUN/ (NAME.log, processes.txt).
  bool participants_as_processes = false;
  std::string participant_program;  // the fl-participant executable
  std::string process_logs;
  // Told of each data source loaded and each result as it comes; `run` names
  // the run ("fedavg", a variant's name, "centralized").
  std::function<void(const std::string& message)> log;
  std::function<void(const std::string& run, const VersionResult& result, uint64_t rounds)> on_result;
};

struct RunOutcome {
  std::string name;
  std::vector<VersionResult> results;  // version 0 first
  // The virtual time at which the accuracy first reached the scenario's
  // target, if it did.
  std::optional<double> reached_at;
  Buffer final_package;  // the last version's package (fl-sim writes RUN.final.fhmp)
};

struct ScenarioOutcome {
  std::vector<std::string> set_names;  // evaluation sets, in order
  std::vector<RunOutcome> runs;        // the scenario's merge, then the variants (those in `only`)
  std::optional<RunOutcome> baseline;
  bool scenario_merge_ran = false;  // runs.front() is the scenario's own merge
  uint64_t participants = 0;
};

// The names of the scenario's runs, in the order they run: its merge
// (merge.name, else "federation" or "scenario"), each variant, and
// "centralized" when a baseline runs.
std::vector<std::string> run_names(const Scenario& scenario, const RunnerOptions& options);

// Throws std::invalid_argument naming an entry of `options.only` that is not
// one of run_names (run_scenario checks this too, before loading any data).
void check_run_selection(const Scenario& scenario, const RunnerOptions& options);

ScenarioOutcome run_scenario(caf::actor_system& system, const Scenario& scenario, const RunnerOptions& options);

}  // namespace fedhub::sim
