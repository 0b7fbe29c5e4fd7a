// A newcomer's first hour: the README's "Using it by hand" run as written
// (examples/by-hand.sh against real processes), and the manager console used
// by hand: quoting, --json on any line, help, exit status, JSON errors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A hub on a fresh data directory, its manager key file ready.
struct Hub {
  std::unique_ptr<Child> process;
  std::string address;
  std::string key_file;

  explicit Hub(const TempDir& dir) : key_file(dir / "data/manager.key") {
    process =
        std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--port", "0", "--data-dir", dir / "data"});
    auto line = process->wait_for_line("listening on");
    auto at = line.find("listening on ") + 13;
    address = line.substr(at, line.find(' ', at) - at);
  }
  ~Hub() {
    process->signal(SIGTERM);
    process->wait();
  }

  RunResult manager(std::vector<std::string> args, const std::string& input = {}) const {
    std::vector<std::string> argv{kBin + "/fl-manager", "--hub", address, "--key-file", key_file};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(readme_by_hand_block_is_the_script) {
  const std::string script = read_text(kSrc + "/examples/by-hand.sh");
  const std::string readme = read_text(kSrc + "/README.md");
  const auto at = script.find("set -euo pipefail\n");
  BOOST_REQUIRE(at != std::string::npos);
  std::istringstream body(script.substr(at + 18));
  std::string block, line;
  while (std::getline(body, line)) block += (line.empty() ? "" : "    " + line) + "\n";
  BOOST_TEST(readme.find(block) != std::string::npos,
             "README.md's 'Using it by hand' block differs from examples/by-hand.sh; it should read:\n"
                 << block);
}

BOOST_AUTO_TEST_CASE(readme_by_hand_script_runs_as_written) {
  TempDir dir;
  const auto port = std::to_string(free_port());
  auto r = run({"/usr/bin/env", "FEDHUB_BIN=" + kBin, "FEDHUB_PORT=" + port, "FEDHUB_DATA=" + (dir / "hub-data"),
                "bash", "-c", "cd '" + kSrc + "' && exec examples/by-hand.sh"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "by-hand.sh failed (" << r.exit_code << "): " << r.err << r.out);
  BOOST_TEST(r.out.find("created model 'fmnist'") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("1 contribution(s) to version 0") != std::string::npos, r.out);  // the history
  BOOST_TEST(r.out.find("org-1") != std::string::npos, r.out);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(r.out, m, std::regex("version 1: accuracy ([0-9.]+)")), r.out);
  const double accuracy = std::stod(m[1]);
  // Half of the classes learned: at most 0.5, and well above chance (0.1).
  BOOST_TEST(accuracy > 0.3);
  BOOST_TEST(accuracy <= 0.5);
  std::smatch sandal;
  BOOST_REQUIRE(std::regex_search(r.out, sandal, std::regex("Sandal +([0-9.]+)")));
  BOOST_TEST(std::stod(sandal[1]) < 0.05, "an unseen class is not learned: " << r.out);
  // The data stayed where it was told to go, not in the checkout.
  BOOST_TEST(std::filesystem::exists(dir / "hub-data/manager.key"));
  BOOST_TEST(!std::filesystem::exists(kSrc + "/hub-data"));
}

BOOST_AUTO_TEST_CASE(console_by_hand) {
  TempDir dir;
  Hub hub(dir);
  // Quotes are stripped, --json works on any line, help lists the console's
  // commands (not the command line's options), and the exit status is the
  // first failure's.
  auto c = hub.manager({}, "list --json\nstatus 'c50'\nstatus \"two words\" --json\nhelp\nwhoami\n");
  BOOST_TEST(c.exit_code == 1, c.err);
  std::istringstream out(c.out);
  std::string first;
  std::getline(out, first);
  BOOST_TEST(json::parse(first).is_array(), first);
  BOOST_TEST(c.err.find("no model named 'c50'") != std::string::npos, c.err);
  BOOST_TEST(c.err.find("'two words'") != std::string::npos, c.err);
  BOOST_TEST(c.err.find("{\"error\":\"unknown_model\"") != std::string::npos, c.err);
  BOOST_TEST(c.out.find("Console commands") != std::string::npos, c.out);
  BOOST_TEST(c.out.find("--hub") == std::string::npos, c.out);
  BOOST_TEST(c.out.find("manager (manager)") != std::string::npos, c.out);

  auto ok = hub.manager({}, "whoami\nlist\n");
  BOOST_TEST(ok.exit_code == 0, ok.err);
  auto usage_first = hub.manager({}, "status\nstatus nope\n");
  BOOST_TEST(usage_first.exit_code == 2, usage_first.err);
  BOOST_TEST(usage_first.err.find("status needs a NAME") != std::string::npos, usage_first.err);
  auto unterminated = hub.manager({}, "status 'c50\n");
  BOOST_TEST(unterminated.exit_code == 2);
  BOOST_TEST(unterminated.err.find("unterminated") != std::string::npos, unterminated.err);

  // With --json, a single command's errors are JSON objects too.
  auto e = hub.manager({"--json", "status", "nope"});
  BOOST_TEST(e.exit_code == 1);
  auto j = json::parse(e.err);
  BOOST_TEST(j["error"] == "unknown_model");
  BOOST_TEST(j["message"].get<std::string>().find("nope") != std::string::npos);
  auto u = hub.manager({"--json", "create"});
  BOOST_TEST(u.exit_code == 2);
  BOOST_TEST(json::parse(u.err)["error"] == "usage");
  auto plain = hub.manager({"create", "--arch", "x"});
  BOOST_TEST(plain.err.find("create needs a NAME: create NAME") != std::string::npos, plain.err);
}

BOOST_AUTO_TEST_CASE(manager_waits_for_a_starting_hub) {
  TempDir dir;
  const auto port = std::to_string(free_port());
  // The manager starts first and waits for the key file and the port.
  Child manager({kBin + "/fl-manager", "--hub", "127.0.0.1:" + port, "--key-file", dir / "data/manager.key", "--wait",
                 "60", "whoami"});
  Child hub({kBin + "/fl-hub", "--port", port, "--data-dir", dir / "data"});
  hub.wait_for_line("listening on");
  BOOST_TEST(manager.read_rest().find("manager (manager)") != std::string::npos);
  BOOST_TEST(manager.wait_at_most(std::chrono::seconds(60)) == 0);
  hub.signal(SIGTERM);
  BOOST_TEST(hub.wait() == 0);
  // Without a hub, --wait gives up with a clear error.
  auto r = run({kBin + "/fl-manager", "--hub", "127.0.0.1:" + port, "--key", "x", "--wait", "0.5", "whoami"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err.find("cannot reach a hub") != std::string::npos, r.err);
}
