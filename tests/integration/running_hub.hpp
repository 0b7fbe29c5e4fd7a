// A real fl-hub process on a data directory of its own, with the commands
// the integration tests run against it (fl-manager with the hub's manager
// key, fl-participant download/train/upload). Every command runs bounded
// (run_bounded); the hub's output is read with a watchdog (wait_line).
#pragma once

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace fedhub::testing {

inline const std::string kBin = FEDHUB_BIN_DIR;
inline const std::string kSrc = FEDHUB_SOURCE_DIR;
inline const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";

struct RunningHub {
  TempDir dir;
  std::string data = dir / "data";
  std::string address;
  std::unique_ptr<Child> process;

  void start() {
    const auto port = std::to_string(free_port());
    process = std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--port", port, "--data-dir", data});
    wait_line(*process, "listening on");
    address = "127.0.0.1:" + port;
  }
  void stop() {
    process->signal(SIGTERM);
    BOOST_TEST(process->wait_at_most(std::chrono::seconds(30)) == 0);
  }
  RunResult manager(std::vector<std::string> args) const {
    std::vector<std::string> argv{kBin + "/fl-manager",  "--hub",     address, "--key-file",
                                  data + "/manager.key", "--timeout", "60"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_bounded(argv, 90);
  }
  RunResult ok(std::vector<std::string> args) const {
    std::string args_text;
    for (const auto& a : args) args_text += a + " ";
    auto r = manager(std::move(args));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "fl-manager " << args_text << " failed: " << r.err << r.out);
    return r;
  }
  std::string key(const std::string& name) const {
    auto out = ok({"keys", "add", name, "--role", "participant"}).out;
    return out.substr(0, out.find('\n'));
  }
  // Downloads the current version of `model` as `key` and trains one round
  // on the source `data` (Fashion-MNIST's labels); returns the result file
  // (out-SEED.fhc).
  std::string train(const std::string& key, const std::string& data, const std::string& seed,
                    const std::string& model = "fm") const {
    const std::string pkg = dir / ("in-" + seed + ".pkg"), result = dir / ("out-" + seed + ".fhc");
    auto r = run_bounded(
        {kBin + "/fl-participant", "download", "--hub", address, "--key", key, "--model", model, "--out", pkg});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    r = run_bounded({kBin + "/fl-participant", "train", "--in", pkg, "--data", data, "--data-labels",
                     kSrc + "/config/fashion-mnist-labels.txt", "--out", result, "--seed", seed, "--quiet"},
                    120);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return result;
  }
  RunResult upload(const std::string& key, const std::string& result) const {
    return run_bounded({kBin + "/fl-participant", "upload", "--hub", address, "--key", key, "--weights", result});
  }
};

}  // namespace fedhub::testing
