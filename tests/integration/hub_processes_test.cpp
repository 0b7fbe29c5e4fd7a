// The paper's four-step scenario across real processes: an fl-hub, the
// fl-manager console and fl-participant processes talking over loopback
// through CAF remoting; the hub is killed with SIGKILL and restarted on the
// same data directory.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "messages/contribution.hpp"
#include "messages/files.hpp"
#include "persistence/store.hpp"
#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;
const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

struct Hub {
  const TempDir& dir;
  std::unique_ptr<Child> process;
  std::string address;

  explicit Hub(const TempDir& d) : dir(d) {}

  void start(uint16_t port = 0) {
    process = std::make_unique<Child>(
        std::vector<std::string>{kBin + "/fl-hub", "--port", std::to_string(port), "--data-dir", dir / "data"});
    auto line = process->wait_for_line("listening on");
    auto at = line.find("listening on ") + 13;
    address = line.substr(at, line.find(' ', at) - at);
  }

  void kill9() {
    process->signal(SIGKILL);
    BOOST_TEST(process->wait() == 128 + SIGKILL);
  }
};

RunResult manager(const Hub& hub, std::vector<std::string> args, const std::string& key_file = "") {
  std::vector<std::string> argv{kBin + "/fl-manager",
                                "--hub",
                                hub.address,
                                "--key-file",
                                key_file.empty() ? hub.dir / "data/manager.key" : key_file,
                                "--timeout",
                                "60"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult participant(const std::string& command, std::vector<std::string> args) {
  std::vector<std::string> argv{kBin + "/fl-participant", command};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult hub_participant(const Hub& hub, const std::string& key, const std::string& command,
                          std::vector<std::string> args) {
  args.insert(args.end(), {"--hub", hub.address, "--key", key});
  return participant(command, args);
}

// Expects a refused command: exit code 1 and the error's name on stderr.
void expect_refused(const RunResult& r, const std::string& error_name) {
  BOOST_TEST(r.exit_code == 1, "exit code " << r.exit_code << ", stderr: " << r.err);
  BOOST_TEST(r.err.find("error: " + error_name + ":") != std::string::npos,
             "expected '" << error_name << "' in: " << r.err);
}

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

void create_model(const Hub& hub, const std::string& name, const TempDir& dir) {
  write_text(
      dir / "recipe.json",
      R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":20,"samples_per_round":640})");
  expect_ok(manager(hub, {"create", name, "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                          kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}));
}

std::string add_key(const Hub& hub, const std::string& name, const std::string& role = "participant") {
  auto r = manager(hub, {"keys", "add", name, "--role", role});
  expect_ok(r);
  std::string key = r.out.substr(0, r.out.find('\n'));
  BOOST_REQUIRE(key.rfind("fhk_", 0) == 0);
  return key;
}

json status(const Hub& hub, const std::string& model, int64_t version = -1) {
  auto r = manager(hub, {"--json", "status", model, "--version", std::to_string(version)});
  expect_ok(r);
  return json::parse(r.out);
}

std::vector<std::string> contributors(const json& st) {
  std::vector<std::string> out;
  for (const auto& c : st["contributions"]) out.push_back(c["participant"]);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hub_processes)

BOOST_AUTO_TEST_CASE(four_steps_rejections_and_crash_recovery) {
  TempDir dir;
  Hub hub(dir);
  hub.start();
  // The manager key file was created with mode 0600.
  BOOST_TEST(fedhub::read_file(dir / "data/manager.key").size() > 10u);

  // Step 1: the manager creates a model.
  create_model(hub, "fm", dir);
  auto listed = manager(hub, {"--json", "list"});
  expect_ok(listed);
  auto models = json::parse(listed.out);
  BOOST_REQUIRE(models.size() == 1u);
  BOOST_TEST(models[0]["name"] == "fm");
  BOOST_TEST(models[0]["current_version"] == 0);
  expect_refused(manager(hub, {"create", "fm", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                               kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}),
                 "model_exists");

  const auto alice = add_key(hub, "alice");
  const auto bob = add_key(hub, "bob");
  const auto carol = add_key(hub, "carol");

  // Step 2: participants download and train offline, each on part of the classes.
  expect_ok(hub_participant(hub, alice, "download", {"--model", "fm", "--out", dir / "v0.pkg"}));
  expect_ok(participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,1,2,3,4", "--out",
                                  dir / "alice0.fhc", "--seed", "1"}));
  expect_ok(participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":5,6,7,8,9", "--out",
                                  dir / "bob0.fhc", "--seed", "2"}));
  expect_ok(participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,9", "--out",
                                  dir / "carol0.fhc", "--seed", "3"}));

  // Step 3: uploads, and the paper's rules.
  auto up = hub_participant(hub, alice, "upload", {"--model", "fm", "--weights", dir / "alice0.fhc", "--json"});
  expect_ok(up);
  BOOST_TEST(json::parse(up.out)["contributions"] == 1);
  BOOST_TEST(json::parse(up.out)["participant"] == "alice");
  expect_refused(hub_participant(hub, alice, "upload", {"--weights", dir / "alice0.fhc"}), "duplicate");
  expect_refused(hub_participant(hub, "fhk_not_a_key", "upload", {"--weights", dir / "bob0.fhc"}), "unauthorized");
  expect_refused(hub_participant(hub, bob, "download", {"--model", "nope", "--out", dir / "x.pkg"}), "unknown_model");
  expect_refused(manager(hub, {"merge", "fm", "--base", "0"},
                         [&] {
                           write_text(dir / "bob.key", bob);
                           return dir / "bob.key";
                         }()),
                 "forbidden");
  expect_ok(hub_participant(hub, bob, "upload", {"--weights", dir / "bob0.fhc"}));
  auto st0 = status(hub, "fm");
  BOOST_TEST((contributors(st0) == std::vector<std::string>{"alice", "bob"}));
  BOOST_TEST(st0["contributions"][0]["num_samples"] == 640);

  // Step 4: merge; the base is then no longer current.
  auto merged = manager(hub, {"--json", "merge", "fm", "--base", "0"});
  expect_ok(merged);
  BOOST_TEST(json::parse(merged.out)["new_version"] == 1);
  BOOST_TEST(json::parse(merged.out)["total_samples"] == 1280);
  expect_refused(manager(hub, {"merge", "fm", "--base", "0"}), "base_not_current");
  expect_refused(manager(hub, {"merge", "fm", "--base", "1"}), "not_enough_contributions");
  expect_refused(hub_participant(hub, carol, "upload", {"--weights", dir / "carol0.fhc"}), "stale");
  expect_refused(hub_participant(hub, carol, "download", {"--model", "fm", "--version", "7", "--out", dir / "x.pkg"}),
                 "unknown_version");

  // Version 1 is better than version 0 on the test set.
  auto e0 = manager(hub, {"--json", "evaluate", "fm", "--version", "0", "--data", "idx:" + kFashion});
  auto e1 = manager(hub, {"--json", "evaluate", "fm", "--data", "idx:" + kFashion});
  expect_ok(e0);
  expect_ok(e1);
  BOOST_TEST(json::parse(e1.out)["version"] == 1);
  BOOST_TEST(json::parse(e1.out)["accuracy"].get<double>() > json::parse(e0.out)["accuracy"].get<double>() + 0.2);

  // A contribution to version 1, acknowledged just before the crash.
  expect_ok(hub_participant(hub, alice, "download", {"--model", "fm", "--out", dir / "v1.pkg"}));
  expect_ok(participant("train", {"--in", dir / "v1.pkg", "--data", "idx:" + kFashion + ":0,1,2,3,4", "--out",
                                  dir / "alice1.fhc", "--seed", "4"}));
  expect_ok(hub_participant(hub, alice, "upload", {"--weights", dir / "alice1.fhc"}));

  hub.kill9();
  hub.start();

  // Everything acknowledged is there after the restart.
  auto st1 = status(hub, "fm");
  BOOST_TEST(st1["current_version"] == 1);
  BOOST_TEST((contributors(st1) == std::vector<std::string>{"alice"}));
  BOOST_TEST((contributors(status(hub, "fm", 0)) == std::vector<std::string>{"alice", "bob"}));
  BOOST_TEST(st1["versions"].size() == 2u);
  expect_refused(hub_participant(hub, alice, "upload", {"--weights", dir / "alice1.fhc"}), "duplicate");
  expect_ok(hub_participant(hub, alice, "download", {"--model", "fm", "--out", dir / "v1-after.pkg"}));
  BOOST_TEST((fedhub::read_file(dir / "v1.pkg") == fedhub::read_file(dir / "v1-after.pkg")));
  // Keys survive too, and revocation takes effect.
  expect_ok(manager(hub, {"keys", "revoke", "carol"}));
  expect_refused(hub_participant(hub, carol, "download", {"--model", "fm", "--out", dir / "x.pkg"}), "unauthorized");

  // The interactive console: one connection, several commands, errors do not end it.
  auto console = run({kBin + "/fl-manager", "--hub", hub.address, "--key-file", dir / "data/manager.key"},
                     "whoami\nlist\nmerge fm --base 0\nkeys list\nquit\n");
  BOOST_TEST(console.out.find("manager (manager)") != std::string::npos, console.out);
  BOOST_TEST(console.out.find("fm ") != std::string::npos, console.out);
  BOOST_TEST(console.err.find("base_not_current") != std::string::npos, console.err);
  BOOST_TEST(console.out.find("alice") != std::string::npos, console.out);

  hub.process->signal(SIGTERM);
  BOOST_TEST(hub.process->wait() == 0);
}

BOOST_AUTO_TEST_CASE(participants_loop_on_pushed_versions) {
  TempDir dir;
  Hub hub(dir);
  hub.start();
  create_model(hub, "loop", dir);
  const auto p1 = add_key(hub, "p1");
  const auto p2 = add_key(hub, "p2");
  auto participant_loop = [&](const std::string& key, const std::string& classes) {
    return std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-participant", "run", "--hub", hub.address,
                                                            "--key", key, "--model", "loop", "--data",
                                                            "idx:" + kFashion + ":" + classes, "--rounds", "3"});
  };
  auto a = participant_loop(p1, "0,1,2,3,4,5");
  auto b = participant_loop(p2, "4,5,6,7,8,9");
  // The manager merges whenever both have contributed, three times.
  auto watch = manager(hub, {"--json", "watch", "loop", "--merge-at", "2", "--versions", "3"});
  expect_ok(watch);
  const auto a_out = a->read_rest();
  BOOST_TEST(a->wait() == 0, a_out);
  BOOST_TEST(b->wait() == 0, b->read_rest());
  // Between rounds each says what it waits for (a manual merge here).
  BOOST_TEST(a_out.find("waiting for version 1 of 'loop': it merges manually, when a manager runs "
                        "`fl-manager merge loop`") != std::string::npos,
             a_out);
  BOOST_TEST(a_out.find("waiting for version 3 of 'loop'") == std::string::npos, a_out);  // not after the last
  auto st = status(hub, "loop");
  BOOST_TEST(st["current_version"] == 3);
  for (const auto& v : st["versions"])
    if (v["version"] != 0) BOOST_TEST(v["contributions"] == 2);
}

BOOST_AUTO_TEST_CASE(participant_and_manager_outlive_a_hub_crash) {
  TempDir dir;
  Hub hub(dir);
  const uint16_t port = free_port();
  hub.start(port);
  create_model(hub, "rc", dir);
  const auto key = add_key(hub, "p");
  Child watch({kBin + "/fl-manager", "--hub", hub.address, "--key-file", dir / "data/manager.key", "watch", "rc",
               "--merge-at", "1", "--versions", "2", "--reconnect", "120"});
  watch.wait_for_line("watching 'rc'");
  Child p({kBin + "/fl-participant", "run", "--hub", hub.address, "--key", key, "--model", "rc", "--data",
           "idx:" + kFashion + ":0,1,2", "--rounds", "2", "--reconnect", "120"});
  p.wait_for_line("uploaded to version 0");
  hub.kill9();
  hub.start(port);  // same port, same data directory
  // Both reconnect; the manager merges, the participant contributes to version 1.
  const auto p_rest = p.read_rest();
  BOOST_TEST(p.wait() == 0, p_rest);
  const auto w_rest = watch.read_rest();
  BOOST_TEST(watch.wait() == 0, w_rest);
  BOOST_TEST(status(hub, "rc")["current_version"] == 2);
  BOOST_TEST((contributors(status(hub, "rc", 1)) == std::vector<std::string>{"p"}));
}

// On main a hub whose policy had been changed hung on SIGTERM in 5 of 20
// tries (its detached merger never ended).
BOOST_AUTO_TEST_CASE(sigterm_after_a_policy_change_ends_the_hub) {
  TempDir dir;
  Hub hub(dir);
  for (int i = 0; i < 5; ++i) {
    hub.start();
    if (i == 0) create_model(hub, "pol", dir);
    expect_ok(manager(hub, {"policy", "pol", "--merge", i % 2 ? "buffered" : "manual", "--k", "3", "--interval", "0.5",
                            "--aggregator", i % 2 ? "fedadam" : "fedavg"}));
    hub.process->signal(SIGTERM);
    BOOST_TEST(hub.process->wait_at_most(std::chrono::seconds(20)) == 0);
  }
}

// An upload cut in the middle (its participant killed) leaves nothing half
// stored: the participant's next upload replaces it, and a hub restarted
// meanwhile deletes its chunks.
BOOST_AUTO_TEST_CASE(an_upload_cut_in_the_middle_leaves_nothing_half_stored) {
  TempDir dir;
  Hub hub(dir);
  hub.start();
  // A model of 40M parameters (160 MB): uploading it takes long enough to
  // be cut. The hub initialises it; the test writes the result file itself.
  write_text(dir / "big.arch.json", R"({"input":[19999999],"layers":[{"type":"dense","units":2}]})");
  write_text(dir / "two.labels", "a\nb\n");
  write_text(dir / "recipe.json", "{}");
  expect_ok(manager(hub, {"create", "big", "--arch", dir / "big.arch.json", "--labels", dir / "two.labels", "--recipe",
                          dir / "recipe.json"}));
  {
    fedhub::Weights w = {{"dense/kernel", {19999999, 2}, std::vector<float>(39999998, 0.5f)},
                         {"dense/bias", {2}, {0.5f, 0.5f}}};
    fedhub::ContributionMeta meta;
    meta.model = "big";
    meta.base_version = 0;
    meta.num_samples = 10;
    fedhub::write_file_atomic(dir / "big.fhct", fedhub::build_contribution(meta, w));
  }
  const auto key = add_key(hub, "p");
  auto cut_upload = [&] {
    Child up({kBin + "/fl-participant", "upload", "--hub", hub.address, "--key", key, "--weights", dir / "big.fhct",
              "--progress"});  // progress lines into the pipe: only on request
    up.wait_for_line("uploading 25%");
    up.signal(SIGKILL);
    up.wait();
  };
  cut_upload();
  // Nothing was accepted; the next upload of the same result replaces the cut one.
  BOOST_TEST(status(hub, "big")["contributions"].size() == 0u);
  cut_upload();
  hub.process->signal(SIGTERM);
  BOOST_TEST(hub.process->wait_at_most(std::chrono::seconds(60)) == 0);
  {
    auto store = fedhub::Store::open(dir / "data");
    BOOST_TEST(store->uploads("big").size() == 1u);  // the cut upload, as the hub stopped
  }
  hub.start();  // deletes what the cut upload staged
  expect_ok(hub_participant(hub, key, "upload", {"--weights", dir / "big.fhct"}));
  BOOST_TEST(status(hub, "big")["contributions"].size() == 1u);
  hub.process->signal(SIGTERM);
  BOOST_TEST(hub.process->wait_at_most(std::chrono::seconds(60)) == 0);
  auto store = fedhub::Store::open(dir / "data");
  BOOST_TEST(store->uploads("big").empty());
}

BOOST_AUTO_TEST_CASE(integer_options_are_range_checked) {
  TempDir dir;
  Hub hub(dir);
  hub.start();
  write_text(dir / "recipe.json", "{}");
  auto r = manager(
      hub, {"create", "m", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
            kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json", "--min-contributions", "-3"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("--min-contributions must be a whole number from 1 to 1000000, not -3") != std::string::npos,
             r.err);
  create_model(hub, "m", dir);
  auto bad_merge = manager(hub, {"merge", "m", "--base", "-1"});
  BOOST_TEST(bad_merge.exit_code == 2, bad_merge.err);
  expect_refused(manager(hub, {"policy", "m", "--k", "0"}), "bad_request");
  // -1 means "current"; anything below is a usage error naming the value.
  auto bad_version = manager(hub, {"status", "m", "--version", "-5"});
  BOOST_TEST(bad_version.exit_code == 2, bad_version.err);
  BOOST_TEST(bad_version.err.find("-5") != std::string::npos, bad_version.err);
}

BOOST_AUTO_TEST_CASE(programs_explain_themselves) {
  for (const auto* program : {"fl-hub", "fl-manager", "fl-participant"}) {
    auto r = run({kBin + "/" + program, "--help"});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out.find("Usage:") != std::string::npos, program);
  }
  auto bad = run({kBin + "/fl-manager", "--key", "x", "frobnicate"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(bad.err.find("unknown command 'frobnicate'") != std::string::npos);
  auto unreachable = run({kBin + "/fl-manager", "--hub", "127.0.0.1:1", "--key", "x", "list"});
  BOOST_TEST(unreachable.exit_code == 1);
  BOOST_TEST(unreachable.err.find("unavailable") != std::string::npos, unreachable.err);
}

// Issue 12, a newcomer's first hour: progress never lands in a pipe ('\r'
// only on a terminal), --quiet, help without internals, evaluating a
// training result, one line per merge in watch, bash completion.
BOOST_AUTO_TEST_CASE(progress_help_evaluate_watch_and_completion_for_a_newcomer) {
  auto no_cr = [](const RunResult& r) {
    BOOST_TEST(r.err.find('\r') == std::string::npos, "a '\\r' in a pipe: " << r.err);
    BOOST_TEST(r.out.find('\r') == std::string::npos, "a '\\r' in a pipe: " << r.out);
  };
  auto help = run({kBin + "/fl-participant", "--help"});
  BOOST_TEST(help.out.find("--command") == std::string::npos, help.out);
  BOOST_TEST(help.out.find("FEDHUB_KEY") != std::string::npos);
  BOOST_TEST(help.out.find("--quiet") != std::string::npos);
  BOOST_TEST(run({kBin + "/fl-manager", "--help"}).out.find("FEDHUB_KEY") != std::string::npos);

  TempDir dir;
  Hub hub(dir);
  hub.start();
  create_model(hub, "fm", dir);
  const auto key = add_key(hub, "p");
  auto down = hub_participant(hub, key, "download", {"--model", "fm", "--out", dir / "v0.pkg"});
  expect_ok(down);
  no_cr(down);
  auto trained = participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,1,2", "--out",
                                       dir / "r.fhct", "--seed", "1"});
  expect_ok(trained);
  no_cr(trained);
  BOOST_TEST(trained.err.find("training version 0: step 20/20  loss") != std::string::npos, trained.err);
  BOOST_TEST(trained.err.find("images/s") != std::string::npos, trained.err);
  auto quiet = participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,1,2", "--out",
                                     dir / "q.fhct", "--seed", "1", "--quiet"});
  expect_ok(quiet);
  BOOST_TEST(quiet.err.empty(), quiet.err);
  BOOST_TEST(quiet.out.find("trained version 0") != std::string::npos);  // the result is still printed
  // On a terminal (script(1) gives the program one): one line rewritten in place.
  const std::string train_line = kBin + "/fl-participant train --in " + dir / "v0.pkg" + " --data idx:" + kFashion +
                                 ":0,1,2 --out " + dir / "t.fhct" + " --seed 1";
  auto on_tty = run({"/usr/bin/script", "-qec", train_line, "/dev/null"});
  expect_ok(on_tty);
  BOOST_TEST(on_tty.out.find("\rtraining version 0: step 10/20  loss ") != std::string::npos, on_tty.out);
  BOOST_TEST(on_tty.out.find("\rtraining version 0: step 20/20  loss ") != std::string::npos, on_tty.out);
  auto quiet_tty = run({"/usr/bin/script", "-qec", train_line + " --quiet", "/dev/null"});
  expect_ok(quiet_tty);
  BOOST_TEST(quiet_tty.out.find("training version") == std::string::npos, quiet_tty.out);

  // A training result is evaluated with the package it was trained from.
  auto refused = participant("evaluate", {"--in", dir / "r.fhct", "--data", "idx:" + kFashion});
  BOOST_TEST(refused.exit_code == 2);
  BOOST_TEST(refused.err.find("is a training result (a contribution), not a model package: evaluate the package "
                              "you trained from, or download the merged version") != std::string::npos,
             refused.err);
  auto result_eval = participant(
      "evaluate", {"--in", dir / "r.fhct", "--package", dir / "v0.pkg", "--data", "idx:" + kFashion, "--json"});
  expect_ok(result_eval);
  no_cr(result_eval);
  auto package_eval = participant("evaluate", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion, "--json"});
  expect_ok(package_eval);
  BOOST_TEST(json::parse(result_eval.out)["base_version"] == 0);
  BOOST_TEST(json::parse(result_eval.out)["accuracy"].get<double>() >
             json::parse(package_eval.out)["accuracy"].get<double>() + 0.1);

  // Each merge on one line, with its evaluation.
  no_cr(hub_participant(hub, key, "upload", {"--weights", dir / "r.fhct"}));
  auto watch = manager(hub, {"watch", "fm", "--merge-at", "1", "--versions", "1", "--data", "idx:" + kFashion});
  expect_ok(watch);
  no_cr(watch);
  BOOST_TEST(watch.out.find("\nversion 1: accuracy 0.") != std::string::npos, watch.out);
  BOOST_TEST(watch.out.find("from 1 contribution (p staleness 0 weight ") != std::string::npos, watch.out);
  BOOST_TEST(watch.out.find("merged ") == std::string::npos, watch.out);

  // A model over 16 MiB: no progress into a pipe; with --progress, whole lines.
  write_text(dir / "big.arch.json", R"({"input":[5000000],"layers":[{"type":"dense","units":1}]})");
  write_text(dir / "one.labels", "a\n");
  write_text(dir / "empty.json", "{}");
  expect_ok(manager(hub, {"create", "big", "--arch", dir / "big.arch.json", "--labels", dir / "one.labels", "--recipe",
                          dir / "empty.json"}));
  auto big = hub_participant(hub, key, "download", {"--model", "big", "--out", dir / "big.pkg"});
  expect_ok(big);
  BOOST_TEST(big.err.find("downloading") == std::string::npos, big.err);
  auto lines = hub_participant(hub, key, "download", {"--model", "big", "--out", dir / "big.pkg", "--progress"});
  expect_ok(lines);
  no_cr(lines);
  BOOST_TEST(lines.err.find("downloading 100% (19.1 of 19.1 MiB") != std::string::npos, lines.err);
  auto big_tty = run({"/usr/bin/script", "-qec",
                      kBin + "/fl-participant download --model big --out " + dir / "big3.pkg" + " --hub " +
                          hub.address + " --key " + key,
                      "/dev/null"});
  expect_ok(big_tty);
  BOOST_TEST(big_tty.out.find("\rdownloading 100% (19.1 of 19.1 MiB") != std::string::npos, big_tty.out);
  auto manager_big = manager(hub, {"download", "big", "--out", dir / "big2.pkg", "--progress"});
  expect_ok(manager_big);
  no_cr(manager_big);
  BOOST_TEST(manager_big.err.find("downloading 100%") != std::string::npos, manager_big.err);

  // Bash completion from the programs' own tables.
  auto complete = [&](const std::string& program, const std::string& words) {
    return run({"/bin/bash", "-c",
                "source <(" + kBin + "/" + program + " completion bash) && complete -p " + program +
                    " && COMP_WORDS=(" + words + ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _fedhub_" +
                    [&] {
                      std::string f = program;
                      std::replace(f.begin(), f.end(), '-', '_');
                      return f;
                    }() +
                    " && printf '%s\\n' \"${COMPREPLY[@]}\""});
  };
  auto m = complete("fl-manager", "fl-manager --hub h:1 wa");
  BOOST_TEST(m.out == "complete -F _fedhub_fl_manager fl-manager\nwatch\n", m.out << m.err);
  auto mopt = complete("fl-manager", "fl-manager policy fm --stal");
  BOOST_TEST(mopt.out == "complete -F _fedhub_fl_manager fl-manager\n--staleness\n", mopt.out << mopt.err);
  auto p = complete("fl-participant", "fl-participant ev");
  BOOST_TEST(p.out == "complete -F _fedhub_fl_participant fl-participant\nevaluate\n", p.out << p.err);
  auto popt = complete("fl-participant", "fl-participant train --qu");
  BOOST_TEST(popt.out == "complete -F _fedhub_fl_participant fl-participant\n--quiet\n", popt.out << popt.err);
  auto h = complete("fl-hub", "fl-hub --data-");
  BOOST_TEST(h.out == "complete -F _fedhub_fl_hub fl-hub\n--data-dir\n", h.out << h.err);
}

BOOST_AUTO_TEST_SUITE_END()

#include "messages/model_package.hpp"  // (here, with the case that reads packages)

// The model-registry commands across real processes: archive refuses
// uploads but serves downloads (also after a restart), rollback gives an
// older version's weights at current + 1, export from one hub and import
// into another keeps every version's weights, delete makes the model unknown
// to participants (also after a restart).
BOOST_AUTO_TEST_SUITE(hub_registry)

BOOST_AUTO_TEST_CASE(archive_rollback_export_import_delete) {
  TempDir dir;
  Hub hub(dir);
  hub.start();
  create_model(hub, "reg", dir);
  const auto key = add_key(hub, "p");
  // A result for `base` whose every weight is the downloaded version's plus `delta`.
  auto result_for = [&](uint64_t base, float delta) {
    const std::string pkg = dir / ("v" + std::to_string(base) + ".pkg");
    expect_ok(
        hub_participant(hub, key, "download", {"--model", "reg", "--version", std::to_string(base), "--out", pkg}));
    auto m = fedhub::read_model_package(fedhub::read_file(pkg));
    for (auto& t : m.weights)
      for (auto& v : t.values) v += delta;
    fedhub::ContributionMeta meta;
    meta.model = "reg";
    meta.base_version = base;
    meta.num_samples = 10;
    const std::string out = dir / ("r" + std::to_string(base) + ".fhct");
    fedhub::write_file_atomic(out, fedhub::build_contribution(meta, m.weights));
    return out;
  };
  auto hash_of = [&](const Hub& h, const std::string& model, uint64_t version) {
    const std::string pkg = dir / "hash.pkg";
    expect_ok(manager(h, {"download", model, "--version", std::to_string(version), "--out", pkg}));
    return fedhub::read_model_package(fedhub::read_file(pkg)).data_hash;
  };
  auto listed = [&](const Hub& h) {
    auto r = manager(h, {"--json", "list"});
    expect_ok(r);
    return json::parse(r.out);
  };
  expect_ok(hub_participant(hub, key, "upload", {"--weights", result_for(0, 0.01f)}));
  expect_ok(manager(hub, {"merge", "reg", "--base", "0"}));  // version 1

  // archive: read-only, durable.
  const auto r1 = result_for(1, 0.02f);
  expect_ok(manager(hub, {"archive", "reg"}));
  expect_refused(hub_participant(hub, key, "upload", {"--weights", r1}), "archived");
  expect_ok(hub_participant(hub, key, "download", {"--model", "reg", "--out", dir / "a.pkg"}));
  BOOST_TEST(listed(hub)[0]["archived"] == true);
  BOOST_TEST(status(hub, "reg")["archived"] == true);
  hub.process->signal(SIGTERM);
  BOOST_TEST(hub.process->wait_at_most(std::chrono::seconds(60)) == 0);
  hub.start();
  BOOST_TEST(listed(hub)[0]["archived"] == true);
  expect_refused(hub_participant(hub, key, "upload", {"--weights", r1}), "archived");
  expect_refused(manager(hub, {"merge", "reg", "--base", "1"}), "archived");
  expect_ok(manager(hub, {"unarchive", "reg"}));
  expect_ok(hub_participant(hub, key, "upload", {"--weights", r1}));
  expect_ok(manager(hub, {"merge", "reg", "--base", "1"}));  // version 2

  // rollback: version 1's weights as version 3.
  auto rb = manager(hub, {"--json", "rollback", "reg", "--to", "1"});
  expect_ok(rb);
  BOOST_TEST(json::parse(rb.out)["new_version"] == 3);
  BOOST_TEST(hash_of(hub, "reg", 3) == hash_of(hub, "reg", 1));
  BOOST_TEST(hash_of(hub, "reg", 3) != hash_of(hub, "reg", 2));
  const auto st = status(hub, "reg");
  BOOST_TEST(st["current_version"] == 3);
  BOOST_TEST(st["versions"][3]["aggregator"] == "rollback");
  BOOST_TEST(st["versions"][3]["rolled_back_from"] == 1);
  expect_refused(manager(hub, {"rollback", "reg", "--to", "3"}), "bad_request");

  // export from this hub, import into a second one: every version's weights.
  expect_ok(manager(hub, {"export", "reg", "--out", dir / "reg.fhx"}));
  TempDir dir2;
  Hub hub2(dir2);
  hub2.start();
  expect_ok(manager(hub2, {"import", dir / "reg.fhx", "--name", "copy"}));
  expect_refused(manager(hub2, {"import", dir / "reg.fhx", "--name", "copy"}), "model_exists");
  for (uint64_t v = 0; v <= 3; ++v) BOOST_TEST(hash_of(hub2, "copy", v) == hash_of(hub, "reg", v), "version " << v);
  BOOST_TEST(status(hub2, "copy")["versions"][3]["rolled_back_from"] == 1);
  expect_ok(manager(hub2, {"export", "copy", "--version", "2", "--out", dir / "copy2.fhx"}));
  expect_ok(manager(hub2, {"import", dir / "copy2.fhx", "--name", "only2"}));
  BOOST_TEST(status(hub2, "only2")["current_version"] == 2);
  BOOST_TEST(hash_of(hub2, "only2", 2) == hash_of(hub, "reg", 2));
  // A damaged export file is refused before anything reaches the hub.
  {
    auto bytes = fedhub::read_file(dir / "reg.fhx");
    bytes[bytes.size() - 5] ^= 0x40;
    fedhub::write_file_atomic(dir / "bad.fhx", bytes);
  }
  expect_refused(manager(hub2, {"import", dir / "bad.fhx", "--name", "bad"}), "bad_checksum");
  BOOST_TEST(listed(hub2).size() == 2u);

  // delete: confirmed only with --yes; then unknown to participants, also after a restart.
  auto unconfirmed = manager(hub, {"delete", "reg"});
  BOOST_TEST(unconfirmed.exit_code == 2);
  BOOST_TEST(unconfirmed.err.find("--yes") != std::string::npos, unconfirmed.err);
  expect_ok(manager(hub, {"delete", "reg", "--yes"}));
  expect_refused(hub_participant(hub, key, "upload", {"--weights", r1}), "unknown_model");
  expect_refused(hub_participant(hub, key, "download", {"--model", "reg", "--out", dir / "x.pkg"}), "unknown_model");
  hub.process->signal(SIGTERM);
  BOOST_TEST(hub.process->wait_at_most(std::chrono::seconds(60)) == 0);
  hub.start();
  BOOST_TEST(listed(hub).size() == 0u);
  expect_refused(hub_participant(hub, key, "download", {"--model", "reg", "--out", dir / "x.pkg"}), "unknown_model");
  // The name is free again.
  create_model(hub, "reg", dir);
  BOOST_TEST(status(hub, "reg")["current_version"] == 0);
}

BOOST_AUTO_TEST_SUITE_END()
