// A scenario's crowd as real `fl-participant run` processes over loopback
// (`fl-sim --participants-as-processes`), instead of in-process participants
// in virtual time (sim/simulation.hpp).
//
// This process holds an embedded hub (sim/embedded_hub.hpp) published on
// 127.0.0.1 and is the manager: it creates the model as Simulation does
// (spec, policy, min_contributions, init_seed), makes one participant key
// per participant and starts one process each:
//
//   fl-participant run --hub 127.0.0.1:PORT --model NAME --data SOURCE[:CLASSES]
//                      [--data-labels FILE] --rounds R --seed S --reconnect 0 --quiet
//
// with the key in FEDHUB_KEY (not on the command line, where `ps` shows it)
// and stdout and stderr in LOGS/NAME.log. R is the run's versions with
// manual merges after every participant (each process contributes once per
// version and ends by itself), else unbounded (the processes are stopped at
// the end). --reconnect 0: a process whose hub is gone (this process killed)
// ends at once. Each process loads its data source
// itself, so only what a source string names is supported (see
// process_participants). With manual merges this process merges when the
// current version has contributions from every participant (or `merge_at`
// wait); buffered and async policies merge by themselves inside the hub.
// After each published version it downloads and evaluates it; time is real:
// a result's virtual_s is the wall time at which the version was published.
//
// Every wait is bounded: a version must come within version_timeout, a
// participant process that ends with a non-zero status is an error naming it
// with the tail of its log, and so is every process ending before the last
// version. When the run ends, the processes still running (waiting for
// versions that will not come) are sent SIGTERM and reaped; on every other way out (an exception) they are killed and
// reaped. LOGS/processes.txt lists each process's name, pid and how it ended.
#pragma once

#include <caf/actor_system.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "datasets/dataset.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

namespace fedhub::sim {

// One participant process.
struct ProcessParticipant {
  std::string name;         // its key's name (NAME-i as in the in-process runs)
  std::string source;       // a data source string, CLASSES included
  std::string labels_file;  // --data-labels, or empty
  uint64_t seed = 1;        // --seed (fl-participant adds the round)
};

// The participants of a scenario as processes, checked: every group must be
// kind `shared` with samples 0 (its `classes`, model label indices, become
// the source string's CLASSES, by label name when the source's classes have
// names, else by index), behaviour honest, samples_per_round 0, and speed 1,
// no speed_max spread, jitter 0, dropout 0 (real processes run at the
// machine's speed: speeds and dropouts cannot be honoured); run.virtual_seconds
// must be 0. A refusal is std::invalid_argument naming the field, e.g.
// "participants[0].partition: --participants-as-processes needs kind shared
// (each process loads its own source)". `resolve` turns a Scenario::data
// source into the string a process loads (cifar10:train -> sim/cifar10.hpp's).
// check_process_scenario makes the same checks, without the data sources,
// except those of the classes (a label name holding ',' or ':', a source
// that keeps classes of its own).
void check_process_scenario(const Scenario& scenario);
std::vector<ProcessParticipant> process_participants(const Scenario& scenario, uint64_t seed,
                                                     const std::function<std::string(const std::string&)>& resolve);

struct ProcessCrowdOptions {
  // The model, merge policy, min_contributions, merge_at, versions,
  // stop_at_accuracy, seed, threads (evaluation here) and hub options, as for
  // a Simulation; speeds, seconds_per_step and virtual_seconds are not used.
  SimulationOptions simulation;
  std::string program;   // the fl-participant executable
  std::string logs_dir;  // NAME.log and processes.txt (created)
  std::chrono::milliseconds version_timeout{std::chrono::minutes(30)};
  // At the end: how long the processes get to end by themselves (with manual
  // merges after every participant, when each has made its last
  // contribution), then after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_timeout{std::chrono::seconds(10)};
};

using EvaluationSets = std::vector<std::pair<std::string, const datasets::Dataset*>>;

// Runs the crowd: version 0's result first, then one per new version (each
// also given to on_result), until `versions` versions or stop_at_accuracy.
// Throws std::invalid_argument for bad options (no participants, no
// evaluation set, no program), std::runtime_error when the run cannot go on
// (a process failed or all ended, no version within version_timeout),
// RequestError for a refusal from the hub. last_package, when given, gets
// the package of the newest version evaluated.
std::vector<VersionResult> run_with_processes(caf::actor_system& system, const ProcessCrowdOptions& options,
                                              const std::vector<ProcessParticipant>& participants,
                                              const EvaluationSets& sets,
                                              const std::function<void(const VersionResult&)>& on_result = {},
                                              Buffer* last_package = nullptr);

}  // namespace fedhub::sim
