// fl-sim: runs a research simulation from a scenario file (sim/scenario.hpp,
// docs/simulation.md): the hub's real actors embedded in this process, a
// crowd of participants in virtual time, CSV and SVG results.
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli.hpp"
#include "apps/completion.hpp"
#include "apps/progress.hpp"
#include "client/system_config.hpp"
#include "messages/files.hpp"
#include "sim/process_crowd.hpp"
#include "sim/results_csv.hpp"
#include "sim/scenario_runner.hpp"
#include "sim/svg_chart.hpp"

using namespace fedhub;
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

const char* kUsage =
    "Usage: fl-sim --scenario FILE [--rounds N] [--out DIR] [--seed S] [--baseline none|centralized]\n"
    "              [--runs NAME,...] [--cifar PATH] [--threads N] [--participants-as-processes]\n"
    "              [--quiet | --progress]\n"
    "       fl-sim completion bash     (a bash completion script: source <(fl-sim completion bash))\n"
    "\n"
    "Runs the scenario with the hub's actors in this process: every participant downloads\n"
    "each version it takes, trains, and uploads through the hub's real upload sessions, at the\n"
    "virtual time its speed gives; the hub's merge policy makes the versions. Each version is\n"
    "evaluated on the scenario's evaluation sets. Scenarios: scenarios/ (docs/simulation.md).\n"
    "\n"
    "Writes into --out (default fl-sim-out/NAME): RUN.csv and RUN.final.fhmp (its last version's\n"
    "model package) per run (the scenario's merge, each variant, the baseline),\n"
    "accuracy-by-round.svg, accuracy-by-virtual-time.svg, summary.json.\n"
    "Ends with the line\n"
    "  fl-sim: rounds R accuracy A baseline B gap G   (B and G = B - A when a baseline ran)\n"
    "and, for a scenario with variants and target_accuracy,\n"
    "  async-study: target A sync_s T1 best POLICY best_s T2 speedup S\n"
    "CIFAR-10 (cifar10:train|test in a scenario): --cifar PATH (JPEG folders, the official\n"
    "binaries or cifar10-jpeg.tar.gz), else $FEDHUB_CIFAR10, else ../shared/datasets beside\n"
    "the checkout; an archive is extracted once into ~/.cache/fedhub.\n"
    "--participants-as-processes: the same scenario (and its variants) with one real fl-participant\n"
    "process per participant over loopback, in real time; only shared, honest participants at\n"
    "their default speed are supported (the rest is refused); the baseline stays in-process.\n"
    "Exit status: 0 done, 1 failed, 2 bad usage or a bad scenario file.\n";

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

// The folder of this executable (fl-participant is built beside it).
fs::path own_folder(const char* argv0) {
  std::error_code ec;
  auto exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  return exe.parent_path();
}

// Where ../shared/datasets may be: beside the checkout of this binary
// (build/bin/fl-sim -> checkout/../shared), beside the current folder's.
std::vector<std::string> cifar_search(const char* argv0) {
  std::vector<std::string> out;
  std::error_code ec;
  auto exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0);
  for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (fs::exists(dir / "CMakeLists.txt") && fs::exists(dir / "sim")) {
      out.push_back((dir.parent_path() / "shared" / "datasets").string());
      break;
    }
  out.push_back((fs::current_path() / ".." / "shared" / "datasets").lexically_normal().string());
  out.push_back((fs::current_path() / "shared" / "datasets").string());
  return out;
}

sim::Series series_of(const sim::RunOutcome& run, bool by_time) {
  sim::Series s{run.name, {}, run.name == "centralized"};
  for (size_t i = 0; i < run.results.size(); ++i)
    s.points.emplace_back(by_time ? run.results[i].virtual_s : static_cast<double>(i), run.results[i].overall.accuracy);
  return s;
}

void write_charts(const sim::Scenario& s, const sim::ScenarioOutcome& out, const fs::path& dir) {
  for (bool by_time : {false, true}) {
    sim::Chart c;
    c.title = s.name + ": accuracy on " + (out.set_names.size() == 1 ? out.set_names[0] : "every evaluation set");
    c.x_label = by_time ? "virtual time (s)" : "round (merged version)";
    c.y_label = "accuracy";
    c.y_min = 0;
    c.y_max = 1;
    for (const auto& run : out.runs) c.series.push_back(series_of(run, by_time));
    if (out.baseline) c.series.push_back(series_of(*out.baseline, by_time));
    if (s.target_accuracy) c.y_marks.emplace_back(*s.target_accuracy, "target " + fixed(*s.target_accuracy, 2));
    sim::write_svg((dir / (by_time ? "accuracy-by-virtual-time.svg" : "accuracy-by-round.svg")).string(),
                   sim::svg_line_chart(c));
  }
}

nlohmann::json run_json(const sim::RunOutcome& r) {
  const auto& last = r.results.back();
  nlohmann::json j{{"name", r.name},
                   {"versions", last.version},
                   {"accuracy", last.overall.accuracy},
                   {"virtual_s", last.virtual_s},
                   {"wall_s", last.wall_s}};
  double best = 0;
  for (const auto& v : r.results) best = std::max(best, v.overall.accuracy);
  j["best_accuracy"] = best;
  if (r.reached_at) j["target_reached_at_virtual_s"] = *r.reached_at;
  return j;
}

int sim_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("scenario", po::value<std::string>(), "the scenario file (JSON)")(
      "rounds", po::value<int64_t>(), "versions to make (overrides the scenario's run.rounds)")(
      "out", po::value<std::string>(), "output folder (default fl-sim-out/NAME)")(
      "seed", po::value<int64_t>(), "the seed of every draw (overrides run.seed)")(
      "baseline", po::value<std::string>(), "none or centralized (overrides the scenario's)")(
      "weights", po::value<std::string>(),
      "version 0 from this weights file (a fedhub package or result, safetensors, npz; overrides model.weights)")(
      "runs", po::value<std::string>(),
      "only these runs, comma-separated: the scenario's merge.name, variant names, centralized")(
      "cifar", po::value<std::string>(), "CIFAR-10: JPEG folders, the official binaries or cifar10-jpeg.tar.gz")(
      "threads", po::value<int64_t>()->default_value(0), "threads for training and evaluation (0: every core)")(
      "trainers", po::value<int64_t>(), "participants trained at once, sharing the threads (overrides run.trainers)")(
      "participants-as-processes",
      "real fl-participant processes over loopback (beside fl-sim), in real time; logs in OUT/participants");
  cli::add_progress_options(opts);
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return cli::kOk;
  }
  if (vm.count("command")) {
    const auto words = vm["command"].as<std::vector<std::string>>();
    if (words[0] == "completion")
      return cli::completion_main(words, {"fl-sim", cli::completion_options(opts), {}}, std::cout);
    throw cli::UsageError("unknown command '" + words[0] + "' (fl-sim takes options only; see --help)");
  }
  if (!vm.count("scenario")) throw cli::UsageError("fl-sim needs --scenario FILE (examples: scenarios/)");
  sim::Scenario scenario;
  try {
    scenario = sim::load_scenario(vm["scenario"].as<std::string>());
    if (vm.count("participants-as-processes")) sim::check_process_scenario(scenario);
  } catch (const std::invalid_argument& e) {
    throw cli::UsageError(e.what());
  }
  sim::RunnerOptions ro;
  if (vm.count("rounds")) ro.rounds = static_cast<uint64_t>(cli::whole(vm, "rounds", 1, 1000000));
  if (vm.count("seed")) ro.seed = static_cast<uint64_t>(cli::whole(vm, "seed", 0, INT64_MAX));
  if (vm.count("baseline")) {
    ro.baseline = vm["baseline"].as<std::string>();
    if (*ro.baseline != "none" && *ro.baseline != "centralized")
      throw cli::UsageError("--baseline must be none or centralized, not '" + *ro.baseline + "'");
  }
  if (vm.count("weights")) ro.weights = vm["weights"].as<std::string>();
  if (vm.count("runs")) {
    std::stringstream list(vm["runs"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');)
      if (!name.empty()) ro.only.push_back(name);
    if (ro.only.empty()) throw cli::UsageError("--runs needs at least one run name (see the scenario's variants)");
  }
  try {
    sim::check_run_selection(scenario, ro);
  } catch (const std::invalid_argument& e) {
    throw cli::UsageError(e.what());
  }
  if (vm.count("cifar")) ro.cifar = vm["cifar"].as<std::string>();
  ro.cifar_search = cifar_search(argv[0]);
  ro.threads = static_cast<int>(cli::whole(vm, "threads", 0, 256));
  if (vm.count("trainers")) ro.trainers = static_cast<int>(cli::whole(vm, "trainers", 1, 64));
  const fs::path out = vm.count("out") ? fs::path(vm["out"].as<std::string>()) : fs::path("fl-sim-out") / scenario.name;
  if (vm.count("participants-as-processes")) {
    ro.participants_as_processes = true;
    ro.participant_program = (own_folder(argv[0]) / "fl-participant").string();
    ro.process_logs = (out / "participants").string();
  }
  fs::create_directories(out);

  const auto mode = cli::progress_mode(vm);
  const bool quiet = vm.count("quiet") > 0;
  cli::ProgressLine line(std::cerr, mode);
  ro.log = [&](const std::string& m) {
    if (quiet) return;
    line.finish();
    std::cerr << "fl-sim: " << m << "\n";
  };
  const double budget = scenario.virtual_seconds;
  std::string shown_run;
  ro.on_result = [&](const std::string& run, const sim::VersionResult& r, uint64_t rounds) {
    if (run != shown_run) line.finish();  // each run's last line stays
    shown_run = run;
    // Time left: by rounds, or by virtual time when a budget ends the run first.
    double left = r.version > 0 ? r.wall_s / r.version * (static_cast<double>(rounds) - r.version) : -1;
    if (budget > 0 && r.virtual_s > 0)
      left = std::min(left, r.wall_s / r.virtual_s * std::max(0.0, budget - r.virtual_s));
    const std::string of = budget > 0 ? "" : "/" + std::to_string(rounds);
    line.show(run + ": round " + std::to_string(r.version) + of + "  accuracy " + fixed(r.overall.accuracy, 4) +
              "  virtual " + fixed(r.virtual_s, 0) + (budget > 0 ? "/" + fixed(budget, 0) : "") + " s  wall " +
              cli::format_duration(r.wall_s) + (left >= 0 ? ", " + cli::format_duration(left) + " left" : ""));
    if (r.version == rounds) line.finish();
  };

  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  const auto outcome = sim::run_scenario(system, scenario, ro);
  line.finish();

  nlohmann::json summary{{"scenario", scenario.name}, {"participants", outcome.participants}};
  auto write_run = [&](const sim::RunOutcome& r) {
    sim::write_results_csv((out / (r.name + ".csv")).string(), r.results, outcome.set_names, scenario.labels);
    if (!r.final_package.empty()) write_file_atomic((out / (r.name + ".final.fhmp")).string(), r.final_package);
    summary["runs"].push_back(run_json(r));
  };
  for (const auto& r : outcome.runs) write_run(r);
  if (outcome.baseline) write_run(*outcome.baseline);
  write_charts(scenario, outcome, out);
  // The line is about the first run made; with --runs centralized alone, the baseline.
  const auto& main_run = outcome.runs.empty() ? *outcome.baseline : outcome.runs.front();
  const double a = main_run.results.back().overall.accuracy;
  std::string last = "fl-sim: rounds " + std::to_string(main_run.results.back().version) + " accuracy " + fixed(a, 4);
  if (outcome.baseline && !outcome.runs.empty()) {
    const double b = outcome.baseline->results.back().overall.accuracy;
    last += " baseline " + fixed(b, 4) + " gap " + fixed(b - a, 4);
  }
  std::string study;
  // The study compares the scenario's own merge (the first run) with the variants.
  if (scenario.target_accuracy && outcome.runs.size() > 1 && outcome.scenario_merge_ran) {
    const auto& sync = outcome.runs.front();
    const sim::RunOutcome* best = nullptr;
    for (size_t i = 1; i < outcome.runs.size(); ++i)
      if (outcome.runs[i].reached_at && (!best || *outcome.runs[i].reached_at < *best->reached_at))
        best = &outcome.runs[i];
    auto secs = [](const std::optional<double>& t) { return t ? fixed(*t, 1) : std::string("never"); };
    study = "async-study: target " + fixed(*scenario.target_accuracy, 4) + " sync_s " + secs(sync.reached_at) +
            " best " + (best ? best->name : "none") + " best_s " + (best ? secs(best->reached_at) : "never") +
            " speedup " +
            (best && sync.reached_at ? fixed(*sync.reached_at / *best->reached_at, 2) : std::string("none"));
    summary["study"] = study;
  }
  summary["line"] = last;
  const auto text = summary.dump(2) + "\n";
  write_file_atomic((out / "summary.json").string(), text);
  if (!quiet) std::cerr << "fl-sim: results in " << out.string() << "\n";
  if (!study.empty()) std::cout << study << "\n";
  std::cout << last << std::endl;
  return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_guarded("fl-sim", sim_main, argc, argv); }
