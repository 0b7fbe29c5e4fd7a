// fl-sim as a user runs it: a small scenario (two participants, tiny data
// cut from Debian's Fashion-MNIST, two rounds) writes its CSVs, two SVG
// charts and the summary line; a bad scenario file is refused naming the
// field; every scenario in scenarios/ parses; --participants-as-processes
// runs a scenario with real fl-participant processes and refuses what they
// cannot do.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/process.hpp"
#include "sim/scenario.hpp"

using namespace fedhub::testing;
namespace fs = std::filesystem;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string scenario_text(const std::string& extra = "") {
  return R"({
  "name": "tiny",
  "model": {"architecture": {"input": [28, 28, 1], "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
            "labels": ")" +
         kSrc + R"(/config/fashion-mnist-labels.txt",
            "recipe": {"optimizer": {"name": "adam", "learning_rate": 0.002}, "batch_size": 16, "steps": 20, "samples_per_round": 320}},
  "data": {"train": {"source": "idx:/usr/share/datasets/fashion-mnist/t10k", "labels_file": ")" +
         kSrc + R"(/config/fashion-mnist-labels.txt"}},
  "participants": [{"name": "org", "count": 2, "data": "train", "partition": {"kind": "iid", "samples": 1000},
                    "speed": 1, "speed_max": 3}],
  "run": {"rounds": 5, "seconds_per_step": 0.1},
  "evaluation": [{"name": "held-out", "data": "train"}])" +
         extra + "\n}\n";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fl_sim)

BOOST_AUTO_TEST_CASE(a_small_scenario_writes_csv_charts_and_the_summary_line) {
  TempDir dir;
  write_text(dir / "tiny.json", scenario_text(R"(, "baseline": "centralized")"));
  auto r = run({kBin + "/fl-sim", "--scenario", dir / "tiny.json", "--rounds", "2", "--out", dir / "out", "--quiet"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto out = lines_of(r.out);
  BOOST_REQUIRE(!out.empty());
  // The last line: rounds, accuracy, baseline and gap, in that form.
  std::istringstream last(out.back());
  std::string w[9];
  for (auto& x : w) last >> x;
  BOOST_TEST(w[0] == "fl-sim:");
  BOOST_TEST(w[1] == "rounds");
  BOOST_TEST(w[2] == "2");
  BOOST_TEST(w[3] == "accuracy");
  BOOST_TEST(w[5] == "baseline");
  BOOST_TEST(w[7] == "gap");
  const double a = std::stod(w[4]), b = std::stod(w[6]), g = std::stod(w[8]);
  BOOST_TEST(a > 0.3);  // two rounds of a linear model on Fashion-MNIST
  BOOST_TEST(std::abs(g - (b - a)) < 1e-3);
  BOOST_TEST(r.err.empty(), r.err);  // --quiet

  for (const char* run_name : {"federation", "centralized"}) {
    const auto csv = lines_of(read_text(dir / ("out/" + std::string(run_name) + ".csv")));
    BOOST_REQUIRE(csv.size() == 4u);  // header, versions 0, 1, 2
    BOOST_TEST(
        csv[0].rfind("round,version,virtual_s,wall_s,accuracy,accuracy_held_out,accuracy_class_t_shirt_top,", 0) == 0,
        csv[0]);
    BOOST_TEST(csv[1].rfind("0,0,0.000,", 0) == 0, csv[1]);
    BOOST_TEST(csv[3].rfind("2,2,", 0) == 0, csv[3]);
  }
  // Speeds 1 and 3, 20 steps of 0.1 s, manual merges when both delivered:
  // versions at 6 and 12 virtual seconds.
  const auto fed = lines_of(read_text(dir / "out/federation.csv"));
  BOOST_TEST(fed[2].rfind("1,1,6.000,", 0) == 0, fed[2]);
  BOOST_TEST(fed[3].rfind("2,2,12.000,", 0) == 0, fed[3]);
  for (const char* svg : {"accuracy-by-round.svg", "accuracy-by-virtual-time.svg"}) {
    const auto path = dir / ("out/" + std::string(svg));
    const auto text = read_text(path);
    BOOST_TEST(text.find("<svg") != std::string::npos);
    BOOST_TEST(text.find("federation") != std::string::npos);
    BOOST_TEST(text.find("centralized") != std::string::npos);
    BOOST_TEST(run({"/usr/bin/xmllint", "--noout", path}).exit_code == 0, svg);
  }
  const auto summary = nlohmann::json::parse(read_text(dir / "out/summary.json"));
  BOOST_TEST(summary["participants"] == 2);
  BOOST_TEST(summary["runs"].size() == 2u);
  BOOST_TEST(summary["line"] == out.back());
}

BOOST_AUTO_TEST_CASE(a_runs_final_model_is_the_next_runs_version_0) {
  // RUN.final.fhmp, then fl-sim --weights (and model.weights) start from it:
  // version 0 of the second run scores what the first run's last version did.
  TempDir dir;
  write_text(dir / "tiny.json", scenario_text());
  auto r = run({kBin + "/fl-sim", "--scenario", dir / "tiny.json", "--rounds", "2", "--out", dir / "a", "--quiet"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_REQUIRE(fs::file_size(dir / "a/federation.final.fhmp") > 31400u);  // 7,850 float32 weights and the header
  auto accuracy_of = [](const std::string& row) {
    std::vector<std::string> cells;
    std::stringstream in(row);
    for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
    return cells.at(4);
  };
  const auto first = lines_of(read_text(dir / "a/federation.csv"));
  r = run({kBin + "/fl-sim", "--scenario", dir / "tiny.json", "--rounds", "1", "--out", dir / "b", "--quiet",
           "--weights", dir / "a/federation.final.fhmp"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto second = lines_of(read_text(dir / "b/federation.csv"));
  BOOST_TEST(accuracy_of(second.at(1)) == accuracy_of(first.at(3)));
  BOOST_TEST(accuracy_of(first.at(1)) != accuracy_of(first.at(3)));  // it learnt: the check can fail
  // The same from the scenario's model.weights (a path relative to the file).
  fs::copy_file(dir / "a/federation.final.fhmp", dir / "start.fhmp");
  auto text = scenario_text();
  text.replace(text.find(R"("recipe": {)"), 11, R"("weights": "start.fhmp", "recipe": {)");
  write_text(dir / "from-file.json", text);
  r = run({kBin + "/fl-sim", "--scenario", dir / "from-file.json", "--rounds", "1", "--out", dir / "c", "--quiet"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_TEST(accuracy_of(lines_of(read_text(dir / "c/federation.csv")).at(1)) == accuracy_of(first.at(3)));
  // A file that does not fit the architecture is refused, naming it.
  text.replace(text.find(R"("units": 10)"), 11, R"("units": 10, "use_bias": false)");
  write_text(dir / "no-bias.json", text);
  r = run({kBin + "/fl-sim", "--scenario", dir / "no-bias.json", "--rounds", "1", "--out", dir / "d", "--quiet"});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.err.find("dense/bias") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(a_bad_scenario_is_refused_naming_the_field) {
  TempDir dir;
  auto text = scenario_text();
  text.replace(text.find("\"speed\": 1,"), 11, "\"speed\": \"fast\",");
  write_text(dir / "bad.json", text);
  auto r = run({kBin + "/fl-sim", "--scenario", dir / "bad.json", "--out", dir / "out"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("participants[0].speed: expected a number > 0, got \"fast\"") != std::string::npos, r.err);
  write_text(dir / "unknown.json", scenario_text(R"(, "rounds": 3)"));
  r = run({kBin + "/fl-sim", "--scenario", dir / "unknown.json"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("rounds: unknown field (known: name, description,") != std::string::npos, r.err);
  text = scenario_text();
  text.replace(text.find(R"("recipe": {)"), 11, R"("weights_layout": "sideways", "recipe": {)");
  write_text(dir / "layout.json", text);
  r = run({kBin + "/fl-sim", "--scenario", dir / "layout.json"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("model.weights_layout: expected \"keras\" or \"torch\"") != std::string::npos, r.err);
  r = run({kBin + "/fl-sim", "--scenario", dir / "missing.json"});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.err.find("missing.json") != std::string::npos, r.err);
  r = run({kBin + "/fl-sim"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("--scenario") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(runs_selects_runs_by_name_and_refuses_an_unknown_one) {
  TempDir dir;
  write_text(dir / "tiny.json", scenario_text(R"(, "baseline": "centralized")"));
  // The baseline alone: its CSV, not the federation's; the line is about it.
  auto r = run({kBin + "/fl-sim", "--scenario", dir / "tiny.json", "--rounds", "1", "--out", dir / "out", "--quiet",
                "--runs", "centralized"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_TEST(fs::exists(dir / "out/centralized.csv"));
  BOOST_TEST(!fs::exists(dir / "out/federation.csv"));
  BOOST_TEST(lines_of(r.out).back().rfind("fl-sim: rounds 1 accuracy ", 0) == 0, r.out);
  BOOST_TEST(r.out.find("baseline") == std::string::npos, r.out);
  // An unknown name is refused before any data loads, naming the runs there are.
  r = run({kBin + "/fl-sim", "--scenario", dir / "tiny.json", "--out", dir / "out2", "--runs", "fedadam"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(
      r.err.find("no run named 'fedadam' in scenario 'tiny' (its runs: federation, centralized)") != std::string::npos,
      r.err);
}

// Two fl-participant processes over loopback, each holding half the classes
// of the source (named by label: "T-shirt/top", ..., "Ankle boot").
std::string process_scenario_text(const std::string& partition_b) {
  return R"({
  "name": "procs",
  "model": {"architecture": {"input": [28, 28, 1], "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
            "labels": ")" +
         kSrc + R"(/config/fashion-mnist-labels.txt",
            "recipe": {"optimizer": {"name": "adam", "learning_rate": 0.002}, "batch_size": 16, "steps": 20, "samples_per_round": 320}},
  "data": {"train": {"source": "idx:/usr/share/datasets/fashion-mnist/t10k", "labels_file": ")" +
         kSrc + R"(/config/fashion-mnist-labels.txt"}},
  "participants": [{"name": "a", "data": "train", "partition": {"kind": "shared", "classes": [0, 1, 2, 3, 4]}},
                   {"name": "b", "data": "train", "partition": )" +
         partition_b + R"(}],
  "run": {"rounds": 2},
  "evaluation": [{"name": "held-out", "data": "train"}]
}
)";
}

BOOST_AUTO_TEST_CASE(participants_as_processes_run_the_scenario_with_fl_participant_processes) {
  TempDir dir;
  write_text(dir / "procs.json", process_scenario_text(R"({"kind": "shared", "classes": [5, 6, 7, 8, 9]})"));
  auto r = run({kBin + "/fl-sim", "--scenario", dir / "procs.json", "--out", dir / "out", "--quiet",
                "--participants-as-processes"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto out = lines_of(r.out);
  BOOST_REQUIRE(!out.empty());
  std::istringstream last(out.back());
  std::string w[5];
  for (auto& x : w) last >> x;
  BOOST_TEST(w[0] == "fl-sim:");
  BOOST_TEST(w[1] == "rounds");
  BOOST_TEST(w[2] == "2");
  BOOST_TEST(w[3] == "accuracy");
  BOOST_TEST(std::stod(w[4]) > 0.2);  // halves of the classes each, merged twice

  // Versions 0, 1, 2; both processes' contributions merged into 1 and 2.
  const auto csv = lines_of(read_text(dir / "out/federation.csv"));
  BOOST_REQUIRE(csv.size() == 4u);
  const auto header = csv[0];
  std::vector<std::string> names;
  {
    std::istringstream h(header);
    for (std::string c; std::getline(h, c, ',');) names.push_back(c);
  }
  const auto column = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    BOOST_REQUIRE(it != names.end());
    return static_cast<size_t>(it - names.begin());
  };
  const size_t contributions = column("contributions");
  for (size_t v = 0; v < 3; ++v) {
    std::vector<std::string> cells;
    std::istringstream row(csv[v + 1]);
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    BOOST_REQUIRE(cells.size() > contributions);
    BOOST_TEST(cells[1] == std::to_string(v));
    BOOST_TEST(cells[contributions] == (v == 0 ? "0" : "2"), csv[v + 1]);
  }

  // Each process contributed its two rounds and ended by itself; none is
  // left running.
  for (const char* name : {"a", "b"}) {
    const auto log = read_text(dir / ("out/participants/federation/" + std::string(name) + ".log"));
    BOOST_TEST(log.find("contributed 2 round(s) to 'procs'") != std::string::npos, log);
  }
  const auto table = lines_of(read_text(dir / "out/participants/federation/processes.txt"));
  BOOST_REQUIRE(table.size() == 2u);
  for (const auto& row : table) {
    std::istringstream in(row);
    std::string name, pid;
    in >> name >> pid;
    BOOST_TEST(row.find("ended (exit 0)") != std::string::npos, row);
    BOOST_TEST(!fs::exists("/proc/" + pid), row);
  }
}

BOOST_AUTO_TEST_CASE(participants_as_processes_refuse_what_processes_cannot_do) {
  TempDir dir;
  write_text(dir / "skew.json", process_scenario_text(R"({"kind": "dirichlet", "alpha": 0.5})"));
  auto r =
      run({kBin + "/fl-sim", "--scenario", dir / "skew.json", "--out", dir / "out", "--participants-as-processes"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(
      r.err.find("participants[1].partition: --participants-as-processes needs kind shared") != std::string::npos,
      r.err);
  write_text(dir / "speed.json", scenario_text());
  r = run({kBin + "/fl-sim", "--scenario", dir / "speed.json", "--out", dir / "out", "--participants-as-processes"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(
      r.err.find("participants[0].partition: --participants-as-processes needs kind shared") != std::string::npos,
      r.err);
  auto text = process_scenario_text(R"({"kind": "shared"}, "speed": 1, "speed_max": 4)");
  write_text(dir / "spread.json", text);
  r = run({kBin + "/fl-sim", "--scenario", dir / "spread.json", "--out", dir / "out", "--participants-as-processes"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(
      r.err.find("participants[1].speed_max: --participants-as-processes cannot spread speeds") != std::string::npos,
      r.err);
}

// Found by fuzz_scenario (tests/fuzz): a number past double's range escaped
// parse_scenario as nlohmann's out_of_range instead of a named error.
BOOST_AUTO_TEST_CASE(a_number_past_doubles_range_is_a_named_error) {
  BOOST_CHECK_THROW(fedhub::sim::parse_scenario(R"({"name":"x","run":{"rounds":1e999}})", ".", "s.json"),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(every_scenario_in_scenarios_parses) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kSrc + "/scenarios"))
    if (e.path().extension() == ".json") {
      BOOST_TEST_CONTEXT(e.path()) { BOOST_CHECK_NO_THROW(fedhub::sim::load_scenario(e.path().string())); }
      ++n;
    }
  BOOST_TEST(n >= 1);
}

BOOST_AUTO_TEST_SUITE_END()
