// bench-sim: N participant actors (default the 1,000 of
// scenarios/crowd-1000.json) in one process, each with its own key and
// client, training a small model on small data and uploading through the
// embedded hub's upload sessions; buffered merges.
//
// Measured in the same run: the disk's synced small writes per second (F,
// the limit of acknowledged contributions when each waits for its own
// fsync, as a simulation's one-at-a-time deliveries do). Reported: uploads
// handled per second (accepted and refused) C and C/F, wall time per merge,
// peak resident memory of the whole process (hub, participants, data).
//
// Last line: "bench-sim: participants N contributions_per_s C peak_rss_mb M".
#include <boost/program_options.hpp>
#include <caf/actor_system.hpp>
#include <cstdio>
#include <iostream>

#include "bench/transfer/bench_support.hpp"
#include "client/system_config.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_runner.hpp"

using namespace fedhub;
namespace po = boost::program_options;

int main(int argc, char** argv) try {
  po::options_description opts("bench-sim options");
  opts.add_options()("help,h", "show this help")(
      "scenario",
      po::value<std::string>()->default_value(std::string(FEDHUB_SOURCE_DIR) + "/scenarios/crowd-1000.json"),
      "the crowd's scenario")("participants", po::value<int>(), "participants (replaces the first group's count)")(
      "rounds", po::value<uint64_t>(), "versions to make (default: the scenario's)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "Usage: bench-sim [--participants N] [--rounds R] [--scenario FILE]\n"
                 "  last line: bench-sim: participants N contributions_per_s C peak_rss_mb M\n\n"
              << opts;
    return 0;
  }
  auto scenario = sim::load_scenario(vm["scenario"].as<std::string>());
  if (vm.count("participants")) scenario.participants.front().count = vm["participants"].as<int>();
  sim::RunnerOptions ro;
  if (vm.count("rounds")) ro.rounds = vm["rounds"].as<uint64_t>();
  ro.baseline = "none";
  ro.log = [](const std::string& m) { bench::progress("%s\n", m.c_str()); };
  ro.on_result = [](const std::string&, const sim::VersionResult& r, uint64_t rounds) {
    if (r.version % 10 == 0 || r.version == rounds)
      bench::progress("version %llu/%llu: accuracy %.4f, %u merged, %llu refused, wall %.1f s\n",
                      static_cast<unsigned long long>(r.version), static_cast<unsigned long long>(rounds),
                      r.overall.accuracy, r.contributions, static_cast<unsigned long long>(r.refused), r.wall_s);
  };
  const char* tmp = std::getenv("TMPDIR");
  const auto sync = bench::fsync_rate(tmp && *tmp ? tmp : "/tmp", 2.0);

  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  const auto outcome = sim::run_scenario(system, scenario, ro);
  const auto& results = outcome.runs.front().results;
  uint64_t merged = 0, refused = 0;
  for (const auto& r : results) {
    merged += r.contributions;
    refused += r.refused;
  }
  // From version 0's evaluation (keys made, data cut) to the last version.
  const double wall = results.back().wall_s - results.front().wall_s;
  const uint64_t versions = results.back().version;
  const double c = (merged + refused) / wall;
  const double f = sync.best();
  const long peak_kb = bench::proc_status_kb(getpid(), "VmHWM");
  std::printf("participants %llu, versions %llu in %.1f s wall (%.2f s per merge), accuracy %.4f\n",
              static_cast<unsigned long long>(outcome.participants), static_cast<unsigned long long>(versions), wall,
              wall / static_cast<double>(versions), results.back().overall.accuracy);
  std::printf("uploads handled %llu (merged %llu, refused %llu): %.0f/s = %.2f x the disk's %.0f synced writes/s\n",
              static_cast<unsigned long long>(merged + refused), static_cast<unsigned long long>(merged),
              static_cast<unsigned long long>(refused), c, c / f, f);
  std::printf("peak resident memory %.0f MB (%.0f KB per participant)\n", peak_kb / 1024.0,
              static_cast<double>(peak_kb) / static_cast<double>(outcome.participants));
  std::printf("bench-sim: participants %llu contributions_per_s %.0f peak_rss_mb %.0f\n",
              static_cast<unsigned long long>(outcome.participants), c, peak_kb / 1024.0);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-sim: error: %s\n", e.what());
  return 1;
}
