// fl-sim as a user runs it: a small scenario (two participants, tiny data
// cut from Debian's Fashion-MNIST, two rounds) writes its CSVs, two SVG
// charts and the summary line; a bad scenario file is refused naming the
// field; every scenario in scenarios/ parses.
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
  r = run({kBin + "/fl-sim", "--scenario", dir / "missing.json"});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.err.find("missing.json") != std::string::npos, r.err);
  r = run({kBin + "/fl-sim"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("--scenario") != std::string::npos, r.err);
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
