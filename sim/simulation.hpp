// A research simulation: a crowd of participants and a manager around an
// embedded hub (sim/embedded_hub.hpp), in virtual time (sim/virtual_clock.hpp).
//
// Every participant has its own API key and its own client; it downloads
// each version it takes through the hub, trains with its Behaviour
// (sim/participant.hpp), and uploads the result through an upload session,
// at the virtual time its speed gives. The hub accepts, refuses (stale,
// duplicate, norm_exceeded, ...) and merges exactly as it does for
// fl-participant processes: its merge policy (manual, buffered, async, with
// the staleness rule and the aggregator, a registered one included:
// federation/registry.hpp) makes the versions. With manual merges the
// simulation is the manager: it merges when every participant that took the
// current version has delivered (or `merge_at` contributions wait).
//
// The run is deterministic in its seed: deliveries are handled one at a
// time in virtual-time order, and after each the simulation waits until any
// merge it started has published its version, so the hub sees the same
// sequence whatever the machine's speed. Training runs one participant at
// a time on every core, or `trainers` at once sharing them.
//
//   fedhub::SystemConfig cfg;
//   caf::actor_system system{cfg};
//   fedhub::sim::SimulationOptions o;
//   o.architecture_json = ...; o.labels = ...; o.recipe_json = ...;
//   o.policy_json = R"({"merge":"buffered","k":3})";
//   fedhub::sim::Simulation sim(system, o);
//   sim.add_participant({"org-1", std::make_shared<fedhub::sim::LocalTraining>(data1)});
//   sim.add_evaluation_set("test", test_data);
//   for (const auto& r : sim.run()) std::cout << r.version << " " << r.overall.accuracy << "\n";
#pragma once

#include <caf/actor_system.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.hpp"
#include "sim/embedded_hub.hpp"
#include "sim/participant.hpp"
#include "sim/virtual_clock.hpp"
#include "training/trainer.hpp"

namespace fedhub::sim {

struct ParticipantSpec {
  ParticipantSpec() = default;
  ParticipantSpec(std::string name, std::shared_ptr<Behaviour> behaviour, Speed speed = {}, double dropout = 0)
      : name(std::move(name)), behaviour(std::move(behaviour)), speed(speed), dropout(dropout) {}

  std::string name;  // its key's name: 1-64 characters of [A-Za-z0-9._-]
  std::shared_ptr<Behaviour> behaviour;
  Speed speed;         // compute-time multiplier and jitter
  double dropout = 0;  // probability of sitting a version out, in [0, 1)
};

struct SimulationOptions {
  // The model (docs/models.md): architecture, labels and recipe documents.
  std::string model = "sim";
  std::string architecture_json;
  std::vector<std::string> labels;
  std::string recipe_json;
  uint64_t init_seed = 1;  // version 0's initial weights, unless initial_weights holds them
  // Version 0's weights, every parameter in the architecture's order (empty:
  // random from init_seed).
  std::vector<float> initial_weights;
  // The merge policy (docs/aggregation.md); empty: manual merges, FedAvg.
  // interval_seconds is a wall-clock timer: refused here.
  std::string policy_json;
  uint32_t min_contributions = 1;
  // Manual merges: merge when this many contributions wait (0: when every
  // participant that took the version has delivered).
  uint32_t merge_at = 0;
  // The run ends after `versions` new versions, or when the next delivery
  // would come after `virtual_seconds` (0: no bound), whichever is first.
  uint64_t versions = 10;
  double virtual_seconds = 0;
  // And as soon as a version's accuracy (on every evaluation set together)
  // reaches this (NaN: never): a study of the time to a target.
  double stop_at_accuracy = std::numeric_limits<double>::quiet_NaN();
  int stop_window = 1;  // the mean of the last this many versions (sim/target.hpp)
  // Virtual compute time of one recipe step at speed 1.
  double seconds_per_step = 0.05;
  uint64_t seed = 1;  // every draw: dropouts, jitter, training seeds
  int threads = 0;    // for training and evaluation (0: every core)
  // Participants trained at once, each on threads / trainers threads (at
  // least 1). The results depend on it (a training's thread count fixes how
  // its batches are cut), so it is part of a run's settings like the seed.
  int trainers = 1;
  EmbeddedHubOptions hub;
};

// One version's evaluation, with what made it.
struct VersionResult {
  uint64_t version = 0;
  double virtual_s = 0;                       // virtual time at which it was published
  double wall_s = 0;                          // wall time since run() began (training, transfers, merges, evaluations)
  training::Evaluation overall;               // on every evaluation set together
  std::vector<training::Evaluation> per_set;  // in add_evaluation_set order
  uint32_t contributions = 0;                 // merged into it
  double mean_staleness = 0;
  uint64_t max_staleness = 0;
  double mean_train_loss = std::numeric_limits<double>::quiet_NaN();  // the merged ones' "loss" metric
  uint64_t refused = 0;  // uploads refused since the previous version (stale, norm_exceeded, ...)
};

// Creates the options' model (spec, policy, min_contributions, initial
// weights from init_seed) through `manager` and subscribes it to the model's
// events: how every simulation, in-process or with processes, starts.
void create_simulated_model(HubClient& manager, const SimulationOptions& options);

class Simulation {
 public:
  // Starts an embedded hub in `system` (options.hub) and checks the options
  // (std::invalid_argument naming the field).
  Simulation(caf::actor_system& system, SimulationOptions options);
  ~Simulation();

  // Before run(). Throws std::invalid_argument naming a bad field.
  void add_participant(ParticipantSpec participant);
  void add_evaluation_set(std::string name, datasets::Dataset data);

  // Runs the simulation: version 0's result first, then one per new
  // version, each also given to on_result as soon as it is known. Throws
  // std::runtime_error when it cannot go on (e.g. a buffered policy whose k
  // exceeds the participants), RequestError for a refusal it cannot handle.
  std::vector<VersionResult> run(const std::function<void(const VersionResult&)>& on_result = {});

  const std::vector<std::string>& evaluation_names() const { return set_names_; }
  // The package of the newest version evaluated (after run(): the final
  // model), as the hub serves it (messages/model_package.hpp).
  const Buffer& last_package() const { return last_package_; }
  EmbeddedHub& hub() { return *hub_; }

 private:
  struct Member;
  void check_options() const;
  void create_model();
  void start_idle();
  void start(const std::vector<Member*>& members);
  void deliver(Member& m);
  void merge_if_everyone_delivered();
  void settle();
  void handle(const Buffer& event);
  VersionResult evaluate(uint64_t version);

  caf::actor_system& system_;
  SimulationOptions options_;
  std::unique_ptr<EmbeddedHub> hub_;
  std::unique_ptr<HubClient> manager_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::string> set_names_;
  std::vector<datasets::Dataset> sets_;
  DeliveryQueue queue_;
  double now_ = 0;
  uint64_t current_ = 0;
  uint64_t attempt_ = 0;  // re-draws of dropouts after a stall
  uint64_t refused_ = 0;
  double wall_start_ = 0;
  std::vector<VersionResult> results_;
  Buffer last_package_;
  std::function<void(const VersionResult&)> on_result_;
  bool ran_ = false;
  bool manual_ = true;
};

}  // namespace fedhub::sim
