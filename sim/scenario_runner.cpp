#include "sim/scenario_runner.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "formats/weights_file.hpp"
#include "formats/weights_matching.hpp"
#include "messages/files.hpp"
#include "model/model_spec.hpp"
#include "sim/cifar10.hpp"
#include "sim/process_crowd.hpp"
#include "sim/target.hpp"

namespace fedhub::sim {
namespace {

using Data = std::shared_ptr<const datasets::Dataset>;

// A scenario's data source as a data source string (cifar10:SPLIT found).
std::string resolve_source(const std::string& source, const RunnerOptions& o) {
  if (source.rfind("cifar10:", 0) != 0) return source;
  return cifar10_source(source.substr(8), o.cifar, o.cifar_search, o.cache.empty() ? default_cache_folder() : o.cache);
}

class Sources {
 public:
  Sources(const Scenario& s, const RunnerOptions& o, const ModelSpec& spec) : s_(s), o_(o), spec_(spec) {}

  Data get(const std::string& name) {
    if (auto it = loaded_.find(name); it != loaded_.end()) return it->second;
    const auto& src = s_.data.at(name);
    const std::string source = resolve_source(src.source, o_);
    datasets::DataOptions d;
    d.input_shape = spec_.architecture.input;
    d.model_labels = spec_.labels;
    d.labels_file = src.labels_file;
    d.threads = o_.threads;
    if (o_.log) d.warn = [this](const std::string& w) { o_.log("warning: " + w); };
    auto data = std::make_shared<const datasets::Dataset>(datasets::load_dataset(source, d));
    if (o_.log) o_.log("loaded " + std::to_string(data->size()) + " images of '" + name + "' from " + source);
    loaded_[name] = data;
    return data;
  }

 private:
  const Scenario& s_;
  const RunnerOptions& o_;
  const ModelSpec& spec_;
  std::map<std::string, Data> loaded_;
};

struct Crowd {
  std::vector<ParticipantSpec> participants;
  std::vector<Data> honest_data;  // what the centralized baseline trains on
};

Crowd build_crowd(const Scenario& s, Sources& sources, uint64_t seed, int32_t labels) {
  Crowd crowd;
  for (size_t g = 0; g < s.participants.size(); ++g) {
    const auto& group = s.participants[g];
    const auto source = sources.get(group.data);
    std::vector<Data> parts;
    const auto& p = group.partition;
    if (p.kind == PartitionSpec::Kind::shared && p.samples == 0 && p.classes.empty()) {
      parts.assign(group.count, source);  // each holds the whole source: one copy
    } else {
      for (auto& d : partition_data(*source, group.count, p, seed + 7919 * (g + 1)))
        parts.push_back(std::make_shared<const datasets::Dataset>(std::move(d)));
    }
    for (int i = 0; i < group.count; ++i) {
      ParticipantSpec m;
      m.name = group.count == 1 ? group.name : group.name + "-" + std::to_string(i + 1);
      double speed = group.speed;
      if (group.speed_max > group.speed && group.count > 1)
        speed = group.speed * std::pow(group.speed_max / group.speed, static_cast<double>(i) / (group.count - 1));
      m.speed = {speed, group.jitter};
      m.dropout = group.dropout;
      if (group.behaviour == "noise") {
        m.behaviour = std::make_shared<AddNoise>(group.noise);
      } else if (group.behaviour == "flip-labels") {
        m.behaviour = std::make_shared<LocalTraining>(
            std::make_shared<const datasets::Dataset>(flip_labels(*parts[i], labels)), group.samples_per_round);
      } else {
        m.behaviour = std::make_shared<LocalTraining>(parts[i], group.samples_per_round);
        crowd.honest_data.push_back(parts[i]);
      }
      crowd.participants.push_back(std::move(m));
    }
  }
  return crowd;
}

// The union of the honest participants' data (a source held by several is
// taken once).
Data union_of(const std::vector<Data>& parts) {
  std::vector<const datasets::Dataset*> distinct;
  for (const auto& p : parts)
    if (std::find(distinct.begin(), distinct.end(), p.get()) == distinct.end()) distinct.push_back(p.get());
  auto all = std::make_shared<datasets::Dataset>(*distinct.front());
  for (size_t i = 1; i < distinct.size(); ++i) {
    all->pixels.insert(all->pixels.end(), distinct[i]->pixels.begin(), distinct[i]->pixels.end());
    all->labels.insert(all->labels.end(), distinct[i]->labels.begin(), distinct[i]->labels.end());
  }
  return all;
}

std::optional<double> reached(const std::vector<VersionResult>& results, std::optional<double> target, int window) {
  if (!target) return std::nullopt;
  return time_to_target(results, *target, window);
}

}  // namespace

std::vector<std::string> run_names(const Scenario& s, const RunnerOptions& o) {
  std::vector<std::string> names{!s.merge.name.empty() ? s.merge.name : s.variants.empty() ? "federation" : "scenario"};
  for (const auto& v : s.variants) names.push_back(v.name);
  if (o.baseline.value_or(s.baseline) == "centralized") names.push_back("centralized");
  return names;
}

void check_run_selection(const Scenario& s, const RunnerOptions& o) {
  const auto names = run_names(s, o);
  for (const auto& n : o.only)
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      std::string known;
      for (const auto& k : names) {
        if (!known.empty()) known += ", ";
        known += k;
      }
      throw std::invalid_argument("no run named '" + n + "' in scenario '" + s.name + "' (its runs: " + known + ")");
    }
}

ScenarioOutcome run_scenario(caf::actor_system& system, const Scenario& s, const RunnerOptions& o) {
  const auto spec = make_model_spec(s.model, s.architecture_json, s.labels, s.recipe_json);
  const uint64_t rounds = o.rounds.value_or(s.rounds);
  const uint64_t seed = o.seed.value_or(s.seed);
  const std::string baseline = o.baseline.value_or(s.baseline);
  // Refusals first, before any data is loaded.
  check_run_selection(s, o);
  const std::string first = run_names(s, o).front();
  auto wanted = [&](const std::string& n) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), n) != o.only.end();
  };
  std::vector<ProcessParticipant> processes;
  if (o.participants_as_processes)
    processes = process_participants(s, seed, [&](const std::string& src) { return resolve_source(src, o); });
  // Version 0 from a weights file: read before any data loads (errors first).
  std::vector<float> initial;
  if (const std::string path = o.weights.value_or(s.weights_path); !path.empty()) {
    const auto weights = formats::read_weights_file(read_file(path), path, spec.architecture,
                                                    formats::parse_kernel_layout(s.weights_layout));
    for (const auto& t : weights) initial.insert(initial.end(), t.values.begin(), t.values.end());
    if (o.log) o.log("version 0 from " + path);
  }
  Sources sources(s, o, spec);
  ScenarioOutcome out;
  std::vector<std::pair<std::string, Data>> eval;
  for (const auto& e : s.evaluation) {
    eval.emplace_back(e.name, sources.get(e.data));
    out.set_names.push_back(e.name);
  }
  // In-process participants (with processes: only the baseline's data).
  Crowd crowd;
  if (!o.participants_as_processes || baseline == "centralized")
    crowd = build_crowd(s, sources, seed, static_cast<int32_t>(s.labels.size()));
  out.participants = o.participants_as_processes ? processes.size() : crowd.participants.size();

  auto run_one = [&](const std::string& name, const MergeSpec& merge, std::vector<ParticipantSpec> members,
                     const std::string& recipe_json) {
    SimulationOptions so;
    so.model = s.model;
    so.architecture_json = s.architecture_json;
    so.labels = s.labels;
    so.recipe_json = recipe_json;
    so.init_seed = s.init_seed;
    so.initial_weights = initial;
    so.policy_json = merge.policy_json;
    so.min_contributions = merge.min_contributions;
    so.merge_at = merge.merge_at;
    so.versions = rounds;
    so.virtual_seconds = s.virtual_seconds;
    if (s.stop_at_target && name != "centralized") {
      so.stop_at_accuracy = *s.target_accuracy;
      so.stop_window = s.target_window;
    }
    so.seconds_per_step = s.seconds_per_step;
    so.seed = seed;
    so.threads = o.threads;
    so.trainers = o.trainers.value_or(s.trainers);
    auto on_result = [&](const VersionResult& r) {
      if (o.on_result) o.on_result(name, r, rounds);
    };
    if (o.participants_as_processes && name != "centralized") {
      ProcessCrowdOptions po;
      po.simulation = so;
      po.program = o.participant_program;
      po.logs_dir = (std::filesystem::path(o.process_logs) / name).string();
      EvaluationSets sets;
      for (const auto& [set, data] : eval) sets.emplace_back(set, data.get());
      Buffer last;
      RunOutcome run{name, run_with_processes(system, po, processes, sets, on_result, &last), std::nullopt, {}};
      run.final_package = std::move(last);
      run.reached_at = reached(run.results, s.target_accuracy, s.target_window);
      return run;
    }
    Simulation sim(system, so);
    for (auto& m : members) sim.add_participant(std::move(m));
    for (const auto& [set, data] : eval) sim.add_evaluation_set(set, *data);
    RunOutcome run{name, sim.run(on_result), std::nullopt, {}};
    run.final_package = sim.last_package();
    run.reached_at = reached(run.results, s.target_accuracy, s.target_window);
    return run;
  };

  if (wanted(first)) {
    out.runs.push_back(run_one(first, s.merge, crowd.participants, s.recipe_json));
    out.scenario_merge_ran = true;
  }
  for (const auto& v : s.variants)
    if (wanted(v.name)) out.runs.push_back(run_one(v.name, v.merge, crowd.participants, s.recipe_json));
  if (baseline == "centralized" && wanted("centralized")) {
    if (crowd.honest_data.empty())
      throw std::invalid_argument("baseline centralized: no honest participant holds data");
    const auto n = static_cast<int64_t>(crowd.participants.size());
    auto recipe = nlohmann::json::parse(spec.recipe.to_json());
    recipe["steps"] = spec.recipe.steps * n;
    recipe["samples_per_round"] = spec.recipe.samples_per_round * n;
    ParticipantSpec central;
    central.name = "centralized";
    central.behaviour = std::make_shared<LocalTraining>(union_of(crowd.honest_data));
    MergeSpec manual;  // one version per round
    out.baseline = run_one("centralized", manual, {central}, recipe.dump());
  }
  return out;
}

}  // namespace fedhub::sim
