// Issue 12, the operator's side across real processes: `fl-hub backup` of a
// running hub (participants uploading meanwhile) and with the hub stopped,
// `fl-hub restore` into a new data directory that a new hub then serves with
// the original manager key; and what an operator is refused: a port in use,
// reset-manager-key while the hub runs, revoking the last manager key,
// negative versions, models and recipes beyond the limits, a second hub on
// the same data directory, a data directory that cannot be used.
//
// Every wait is bounded: short commands run under timeout(1), long-running
// processes are read with a watchdog that SIGKILLs them at a deadline, and
// process ends are awaited with wait_at_most.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;
const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";
constexpr auto kLimit = std::chrono::seconds(30);  // for any one step to end

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The peak resident memory of a process in kB (VmHWM).
long peak_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct Hub {
  std::string data;  // its data directory
  std::unique_ptr<Child> process;
  std::string address;
  std::string first_lines;  // what it printed up to "listening on"

  explicit Hub(std::string data_dir) : data(std::move(data_dir)) {}

  void start(uint16_t port) {
    process = std::make_unique<Child>(
        std::vector<std::string>{kBin + "/fl-hub", "--port", std::to_string(port), "--data-dir", data});
    auto line = wait_line(*process, "listening on");
    first_lines += line + "\n";
    address = "127.0.0.1:" + std::to_string(port);
    BOOST_REQUIRE_MESSAGE(contains(line, address), line);
  }

  void stop() {
    process->signal(SIGTERM);
    BOOST_TEST(process->wait_at_most(kLimit) == 0);
  }

  std::string key_file() const { return data + "/manager.key"; }
};

RunResult manager_with(const std::string& address, const std::string& key_file, std::vector<std::string> args) {
  std::vector<std::string> argv{kBin + "/fl-manager", "--hub", address, "--key-file", key_file, "--timeout", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv);
}

RunResult manager(const Hub& hub, std::vector<std::string> args) {
  return manager_with(hub.address, hub.key_file(), std::move(args));
}

RunResult participant(const std::string& command, std::vector<std::string> args) {
  std::vector<std::string> argv{kBin + "/fl-participant", command};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv);
}

RunResult fl_hub(std::vector<std::string> args) {
  args.insert(args.begin(), kBin + "/fl-hub");
  return run_bounded(args);
}

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

// Expects a refused command: exit code 1 and `message` on stderr.
void expect_refused(const RunResult& r, const std::string& message) {
  BOOST_TEST(r.exit_code == 1, "exit code " << r.exit_code << ", stderr: " << r.err);
  BOOST_TEST(contains(r.err, message), "expected '" << message << "' in: " << r.err);
}

void create_model(const Hub& hub, const std::string& name, const std::string& dir) {
  write_text(
      dir + "/recipe.json",
      R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":20,"samples_per_round":640})");
  expect_ok(manager(hub, {"create", name, "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                          kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir + "/recipe.json"}));
}

std::string add_key(const Hub& hub, const std::string& name, const std::string& role = "participant") {
  auto r = manager(hub, {"keys", "add", name, "--role", role});
  expect_ok(r);
  std::string key = r.out.substr(0, r.out.find('\n'));
  BOOST_REQUIRE(key.rfind("fhk_", 0) == 0);
  return key;
}

json status(const Hub& hub, const std::string& model) {
  auto r = manager(hub, {"--json", "status", model});
  expect_ok(r);
  return json::parse(r.out);
}

json listed(const Hub& hub) {
  auto r = manager(hub, {"--json", "list"});
  expect_ok(r);
  return json::parse(r.out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(operator_commands)

// A backup taken by the running hub while two participants train, upload
// and a manager merges; restored into a new data directory, a new hub serves
// a version the original had during the backup, with its history, weights
// and keys. Also the offline backup, and the refusals around both.
BOOST_AUTO_TEST_CASE(backup_while_running_and_restore) {
  ::unsetenv("FEDHUB_KEY");
  TempDir dir;
  const std::string data = dir / "data";
  Hub hub(data);
  const uint16_t port = free_port();
  hub.start(port);
  create_model(hub, "fm", dir.path());
  // Keep every version's weights: the test compares them after the restore.
  expect_ok(manager(hub, {"policy", "fm", "--retain-versions", "100000"}));
  const auto p1 = add_key(hub, "p1");
  const auto p2 = add_key(hub, "p2");

  // Uploads and merges go on until stopped: two participants in a loop, a
  // manager merging whenever both have contributed.
  auto loop = [&](const std::string& key, const std::string& classes) {
    return std::make_unique<Child>(std::vector<std::string>{
        kBin + "/fl-participant", "run", "--hub", hub.address, "--key", key, "--model", "fm", "--data",
        "idx:" + kFashion + ":" + classes, "--rounds", "100000", "--reconnect", "0", "--quiet"});
  };
  auto a = loop(p1, "0,1,2,3,4");
  auto b = loop(p2, "5,6,7,8,9");
  Child watch({kBin + "/fl-manager", "--hub", hub.address, "--key-file", hub.key_file(), "watch", "fm", "--merge-at",
               "2", "--versions", "100000", "--reconnect", "0"});
  wait_line(watch, "version 2: from 2 contributions");
  const int64_t before = status(hub, "fm")["current_version"];
  BOOST_TEST(before >= 2);

  // The running hub's backup: needs the hub's port; the key is the data
  // directory's manager.key.
  const std::string backup = dir / "backup";
  auto taken = fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup", "--out", backup});
  expect_ok(taken);
  BOOST_TEST(contains(taken.out, "fl-hub: backup written to " + backup + " ("), taken.out);
  BOOST_TEST(contains(taken.out, "(by the running hub)"), taken.out);
  BOOST_TEST(fs::exists(backup + "/CURRENT"));
  // The participants were not disturbed: merges go on after the backup.
  wait_line(watch, "version " + std::to_string(before + 3) + ": from 2 contributions");

  // Refused: a directory that exists (empty or not), a wrong key, no key.
  fs::create_directories(dir / "full");
  write_text(dir / "full/precious.txt", "keep me");
  auto into_full = fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup", "--out", dir / "full"});
  expect_refused(into_full, "fl-hub: error: bad_request: the backup directory '" + dir / "full" +
                                "' exists already: name a new directory");
  BOOST_TEST(into_full.out.empty(), into_full.out);
  BOOST_TEST(read_text(dir / "full/precious.txt") == "keep me");
  BOOST_TEST(std::distance(fs::directory_iterator(dir / "full"), fs::directory_iterator{}) == 1);
  expect_refused(fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup", "--out", backup}),
                 "exists already");
  fs::create_directories(dir / "empty");
  expect_refused(fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup", "--out", dir / "empty"}),
                 "exists already");
  BOOST_TEST(fs::is_empty(dir / "empty"));
  // A participant's key does not take backups.
  auto by_participant = fl_hub(
      {"--port", std::to_string(port), "--data-dir", data, "backup", "--out", dir / "b-participant", "--key", p1});
  expect_refused(by_participant, "fl-hub: error: forbidden:");
  BOOST_TEST(!fs::exists(dir / "b-participant"));
  auto wrong_key = fl_hub(
      {"--port", std::to_string(port), "--data-dir", data, "backup", "--out", dir / "b-wrong", "--key", "fhk_wrong"});
  expect_refused(wrong_key, "fl-hub: error: unauthorized: the API key is not known to this hub");
  BOOST_TEST(!fs::exists(dir / "b-wrong"));
  auto no_key = fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup", "--out", dir / "b-nokey",
                        "--key-file", dir / "absent.key"});
  expect_refused(no_key, "fl-hub: error: cannot read key file '" + dir / "absent.key" + "'");
  BOOST_TEST(!fs::exists(dir / "b-nokey"));
  auto no_out = fl_hub({"--port", std::to_string(port), "--data-dir", data, "backup"});
  BOOST_TEST(no_out.exit_code == 2, no_out.err);
  BOOST_TEST(contains(no_out.err, "backup needs --out DIR"), no_out.err);

  // Stop the uploads and merges; what the original hub has then.
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  watch.signal(SIGTERM);
  a->wait_at_most(kLimit);
  b->wait_at_most(kLimit);
  watch.wait_at_most(kLimit);
  const json original = status(hub, "fm");
  const int64_t after = original["current_version"];
  BOOST_TEST(after >= before + 3);
  BOOST_REQUIRE(original["versions"].size() == static_cast<size_t>(after + 1));
  const auto original_keys = manager(hub, {"keys", "list"});
  expect_ok(original_keys);
  // The packages of the versions the backup may hold as current.
  auto package = [&](const std::string& address, const std::string& key, int64_t version, const std::string& out) {
    expect_ok(participant("download", {"--hub", address, "--key", key, "--model", "fm", "--version",
                                       std::to_string(version), "--out", out}));
    return read_text(out);
  };
  std::vector<std::string> packages;
  for (int64_t v = 0; v <= after; ++v)
    packages.push_back(package(hub.address, p1, v, dir / ("orig-" + std::to_string(v) + ".pkg")));
  hub.stop();

  // With the hub stopped, this command takes the backup itself.
  const std::string offline = dir / "backup-offline";
  auto taken2 = fl_hub({"--data-dir", data, "backup", "--out", offline});
  expect_ok(taken2);
  BOOST_TEST(contains(taken2.out, "fl-hub: backup written to " + offline + " ("), taken2.out);
  BOOST_TEST(contains(taken2.out, "(the hub was not running)"), taken2.out);
  expect_refused(fl_hub({"--data-dir", data, "backup", "--out", dir / "full"}), "exists already");

  // Restore: never into an existing directory (not even the stopped hub's).
  auto over_data = fl_hub({"--data-dir", data, "restore", "--from", backup});
  expect_refused(over_data, "fl-hub: error: the data directory '" + data +
                                "' exists already: restore into a new directory (or move the old one away first)");
  BOOST_TEST(over_data.out.empty(), over_data.out);
  auto over_full = fl_hub({"--data-dir", dir / "full", "restore", "--from", backup});
  expect_refused(over_full, "exists already");
  BOOST_TEST(over_full.out.empty(), over_full.out);
  BOOST_TEST(std::distance(fs::directory_iterator(dir / "full"), fs::directory_iterator{}) == 1);
  expect_refused(fl_hub({"--data-dir", dir / "r-x", "restore", "--from", dir / "full"}), "is not a backup of a hub");
  BOOST_TEST(!fs::exists(dir / "r-x"));

  const std::string restored = dir / "restored";
  auto back = fl_hub({"--data-dir", restored, "restore", "--from", backup});
  expect_ok(back);
  BOOST_TEST(contains(back.out, "fl-hub: restored " + backup + " into " + restored), back.out);
  BOOST_TEST(contains(back.out, "manager.key is not part of a backup"), back.out);
  BOOST_TEST(!fs::exists(restored + ".restoring"));
  BOOST_TEST(fs::exists(backup + "/CURRENT"));  // the backup is left as it was

  Hub again(restored);
  again.start(free_port());
  // The restored store has its manager key: no new one is made.
  BOOST_TEST(!contains(again.first_lines, "created a manager key"), again.first_lines);
  BOOST_TEST(!fs::exists(again.key_file()));
  auto with_original_key = [&](std::vector<std::string> args) {
    return manager_with(again.address, hub.key_file(), std::move(args));
  };
  auto models = with_original_key({"--json", "list"});
  expect_ok(models);
  const json restored_list = json::parse(models.out);
  BOOST_REQUIRE(restored_list.size() == 1u);
  BOOST_TEST(restored_list[0]["name"] == "fm");
  const int64_t current = restored_list[0]["current_version"];
  BOOST_TEST_MESSAGE("current version before the backup " << before << ", restored " << current
                                                          << ", the original's last " << after);
  // Consistent: a version the original hub had current during the backup.
  BOOST_TEST(current >= before, "restored " << current << ", current before the backup " << before);
  BOOST_TEST(current <= after, "restored " << current << ", the original's last " << after);
  auto st = with_original_key({"--json", "status", "fm"});
  expect_ok(st);
  const json restored_status = json::parse(st.out);
  BOOST_TEST(restored_status["current_version"] == current);
  BOOST_REQUIRE(restored_status["versions"].size() == static_cast<size_t>(current + 1));
  for (int64_t v = 0; v <= current; ++v)
    BOOST_TEST(restored_status["versions"][v] == original["versions"][v], "version " << v);
  BOOST_TEST(restored_status["policy"] == original["policy"]);
  auto keys = with_original_key({"keys", "list"});
  expect_ok(keys);
  BOOST_TEST(keys.out == original_keys.out);

  // A participant downloads the restored model (its key was restored too)
  // and evaluates it: the weights are the original's.
  const std::string pkg = dir / "restored.pkg";
  BOOST_TEST((package(again.address, p2, -1, pkg) == packages[current]), "version " << current);
  BOOST_TEST((package(again.address, p2, 1, dir / "restored-1.pkg") == packages[1]));
  auto eval = participant("evaluate", {"--in", pkg, "--data", "idx:" + kFashion, "--json"});
  expect_ok(eval);
  BOOST_TEST(json::parse(eval.out)["version"] == current);
  BOOST_TEST(json::parse(eval.out)["accuracy"].get<double>() > 0.4, eval.out);

  // Not over a running hub's data directory.
  expect_refused(fl_hub({"--data-dir", restored, "restore", "--from", offline}),
                 "fl-hub: error: the hub is running on " + restored + ": stop it first");
  again.stop();

  // The offline backup holds everything the hub had when it stopped.
  const std::string restored2 = dir / "restored-offline";
  expect_ok(fl_hub({"--data-dir", restored2, "restore", "--from", offline}));
  Hub third(restored2);
  third.start(free_port());
  auto st2 = manager_with(third.address, hub.key_file(), {"--json", "status", "fm"});
  expect_ok(st2);
  // (At least: a merge the watch asked for as it was stopped may have landed
  // after the original's status was read.)
  const json offline_versions = json::parse(st2.out)["versions"];
  BOOST_REQUIRE(offline_versions.size() >= original["versions"].size());
  for (int64_t v = 0; v <= after; ++v) BOOST_TEST(offline_versions[v] == original["versions"][v], "version " << v);
  BOOST_TEST((package(third.address, p1, after, dir / "offline.pkg") == packages[after]));
  third.stop();
}

// What an operator is refused, each where it is decided: the port and
// reset-manager-key by fl-hub before it touches the store, the last manager
// key by the hub, a negative --version by fl-manager before it connects,
// models over the absolute limits by fl-manager, over the hub's own limits
// by the hub (without it allocating the model).
BOOST_AUTO_TEST_CASE(operator_refusals) {
  ::unsetenv("FEDHUB_KEY");
  TempDir dir;

  // (a) A port in use: refused before anything is written.
  {
    const uint16_t taken = free_port();
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(taken);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::listen(fd, 1) == 0);
    auto r = fl_hub({"--port", std::to_string(taken), "--data-dir", dir / "new"});
    ::close(fd);
    BOOST_TEST(r.exit_code == 1, r.out << r.err);
    BOOST_TEST(contains(r.err, "fl-hub: error: port " + std::to_string(taken) +
                                   " is in use (by another fl-hub?): choose another with --port"),
               r.err);
    BOOST_TEST(!fs::exists(dir / "new"));
  }
  const std::string data = dir / "data";
  Hub hub(data);
  const uint16_t port = free_port();
  hub.start(port);
  {
    // ... also by another fl-hub.
    auto r = fl_hub({"--port", std::to_string(port), "--data-dir", dir / "second"});
    BOOST_TEST(r.exit_code == 1, r.out << r.err);
    BOOST_TEST(contains(r.err, "port " + std::to_string(port) + " is in use"), r.err);
    BOOST_TEST(!fs::exists(dir / "second"));
    BOOST_TEST(!fs::exists(dir / "second/manager.key"));
  }
  create_model(hub, "fm", dir.path());

  // (b) reset-manager-key: refused while the hub runs (its store is locked).
  const std::string old_key = read_text(hub.key_file());
  write_text(dir / "old.key", old_key);
  auto while_running = fl_hub({"--data-dir", data, "reset-manager-key"});
  expect_refused(while_running, "fl-hub: error: the hub is running on " + data + ": stop it first");
  BOOST_TEST(read_text(hub.key_file()) == old_key);
  hub.stop();
  auto reset = fl_hub({"--data-dir", data, "reset-manager-key"});
  expect_ok(reset);
  BOOST_TEST(contains(reset.out, "fl-hub: revoked the manager key(s) manager; the new manager key 'manager-1' is in " +
                                     hub.key_file() + " (keep it secret)"),
             reset.out);
  const std::string new_key = read_text(hub.key_file());
  BOOST_TEST(new_key.rfind("fhk_", 0) == 0u);
  BOOST_TEST(new_key != old_key);
  BOOST_TEST(!contains(reset.out, new_key.substr(0, new_key.size() - 1)));  // the key only goes into the file
  BOOST_TEST(
      ((fs::status(hub.key_file()).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write)),
      "manager.key is not 0600");
  auto extra = fl_hub({"--data-dir", data, "reset-manager-key", "now"});
  BOOST_TEST(extra.exit_code == 2, extra.err);
  hub.start(port);
  expect_refused(manager_with(hub.address, dir / "old.key", {"list"}),
                 "error: unauthorized: the API key 'manager' has been revoked");
  auto who = manager(hub, {"whoami"});
  expect_ok(who);
  BOOST_TEST(contains(who.out, "manager-1 (manager)"), who.out);
  BOOST_TEST(listed(hub).size() == 1u);  // the models are untouched

  // (c) The last manager key cannot revoke itself; another manager's can be revoked.
  expect_refused(manager(hub, {"keys", "revoke", "manager-1"}),
                 "error: bad_request: 'manager-1' is the last manager key: add another manager key before revoking it");
  expect_ok(manager(hub, {"whoami"}));
  const auto second = add_key(hub, "m2", "manager");
  write_text(dir / "m2.key", second);
  expect_ok(manager_with(hub.address, dir / "m2.key", {"whoami"}));
  auto revoked = manager(hub, {"keys", "revoke", "m2"});
  expect_ok(revoked);
  BOOST_TEST(contains(revoked.out, "revoked key 'm2'"), revoked.out);
  expect_refused(manager_with(hub.address, dir / "m2.key", {"whoami"}), "error: unauthorized:");
  expect_refused(manager(hub, {"keys", "revoke", "manager-1"}), "is the last manager key");
  expect_refused(manager(hub, {"keys", "revoke", "nobody"}), "error: unknown_key: there is no key named 'nobody'");

  // (d) A negative version other than -1 is fl-manager's usage error (exit
  // 2, naming the option and the value), found before connecting (the
  // address reaches no hub).
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"status", "fm", "--version", "-5"},
                                             {"download", "fm", "--version", "-5", "--out", dir / "x.pkg"},
                                             {"evaluate", "fm", "--version", "-5", "--data", "idx:" + kFashion},
                                             {"export", "fm", "--version", "-5", "--out", dir / "x.fhx"}}) {
    auto r = manager_with("127.0.0.1:1", hub.key_file(), args);
    BOOST_TEST(r.exit_code == 2, args[0] << ": " << r.err);
    BOOST_TEST(contains(r.err, "fl-manager: --version must be"), args[0] << ": " << r.err);
    BOOST_TEST(contains(r.err, "not -5"), args[0] << ": " << r.err);
  }
  BOOST_TEST(!fs::exists(dir / "x.fhx"));

  // (e) Limits. fl-manager refuses what no hub's config can allow (without
  // asking a hub); the hub refuses what its config does not (defaults:
  // max_parameters 500000000, max_steps 1000000), before allocating.
  write_text(dir / "huge.arch.json",
             R"({"input":[28,28,1],"layers":[{"type":"flatten"},)"
             R"({"type":"dense","units":1000000000,"activation":"relu"},{"type":"dense","units":10}]})");
  write_text(dir / "big.arch.json", R"({"input":[1],"layers":[{"type":"dense","units":1000000000,"activation":"relu"},)"
                                    R"({"type":"dense","units":2}]})");
  write_text(dir / "two.labels", "a\nb\n");
  write_text(dir / "steps-2e12.json", R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,)"
                                      R"("steps":2000000000000,"samples_per_round":6400})");
  write_text(dir / "steps-2e6.json", R"({"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,)"
                                     R"("steps":2000000,"samples_per_round":6400})");
  const std::string labels = kSrc + "/config/fashion-mnist-labels.txt";
  const std::string mlp = kSrc + "/config/fmnist-mlp.arch.json";
  const std::string adam = kSrc + "/config/adam.recipe.json";
  const long peak_before = peak_kb(hub.process->pid());
  BOOST_REQUIRE(peak_before > 0);
  auto timed = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = f();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST(ms.count() < 5000, "took " << ms.count() << " ms");
    return r;
  };
  const std::string huge_msg =
      "error: invalid_model: model 'huge': the architecture has 795000000010 parameters; any hub's config allows at "
      "most 68719476736 (max_parameters)";
  expect_refused(
      timed([&] {
        return manager(hub, {"create", "huge", "--arch", dir / "huge.arch.json", "--labels", labels, "--recipe", adam});
      }),
      huge_msg);
  expect_refused(
      manager_with("127.0.0.1:1", hub.key_file(),
                   {"create", "huge", "--arch", dir / "huge.arch.json", "--labels", labels, "--recipe", adam}),
      huge_msg);  // decided by fl-manager
  expect_refused(timed([&] {
                   return manager(hub, {"create", "big", "--arch", dir / "big.arch.json", "--labels",
                                        dir / "two.labels", "--recipe", adam});
                 }),
                 "error: invalid_model: model 'big': the architecture has 4000000002 parameters; the hub's config "
                 "allows at most 500000000 (max_parameters)");
  expect_refused(manager_with("127.0.0.1:1", hub.key_file(),
                              {"create", "big", "--arch", dir / "big.arch.json", "--labels", dir / "two.labels",
                               "--recipe", adam}),
                 "error: unavailable:");  // decided by the hub
  const std::string steps_msg =
      "error: invalid_model: model 'st': the recipe asks for 2000000000000 steps per round; any hub's config allows "
      "at most 1000000000 (max_steps)";
  expect_refused(
      timed([&] {
        return manager(hub, {"create", "st", "--arch", mlp, "--labels", labels, "--recipe", dir / "steps-2e12.json"});
      }),
      steps_msg);
  expect_refused(manager_with("127.0.0.1:1", hub.key_file(),
                              {"create", "st", "--arch", mlp, "--labels", labels, "--recipe", dir / "steps-2e12.json"}),
                 steps_msg);
  expect_refused(
      timed([&] {
        return manager(hub, {"create", "st", "--arch", mlp, "--labels", labels, "--recipe", dir / "steps-2e6.json"});
      }),
      "error: invalid_model: model 'st': the recipe asks for 2000000 steps per round; the hub's config allows at most "
      "1000000 (max_steps)");
  const long peak_after = peak_kb(hub.process->pid());
  BOOST_TEST(peak_after - peak_before < 64 * 1024,
             "the hub's peak memory grew from " << peak_before << " kB to " << peak_after << " kB");
  // Still serving, and nothing was created.
  const json models = listed(hub);
  BOOST_REQUIRE(models.size() == 1u);
  BOOST_TEST(models[0]["name"] == "fm");
  BOOST_TEST(status(hub, "fm")["current_version"] == 0);
  hub.stop();
}

// docs/reliability.md, "Bad input": a second fl-hub on the data directory a
// running hub holds (RocksDB's LOCK) exits 1 naming the directory, before it
// listens; the first hub serves on and its state is unchanged.
BOOST_AUTO_TEST_CASE(a_second_hub_on_the_same_data_directory_exits_and_the_first_serves_on) {
  ::unsetenv("FEDHUB_KEY");
  TempDir dir;
  Hub hub(dir / "data");
  hub.start(free_port());
  create_model(hub, "fm", dir.path());
  const auto key = add_key(hub, "p1");
  const std::string manager_key = read_text(hub.key_file());

  const uint16_t second_port = free_port();
  auto second = fl_hub({"--port", std::to_string(second_port), "--data-dir", hub.data});
  expect_refused(second, "fl-hub: error: ");
  BOOST_TEST(contains(second.err, hub.data), second.err);
  BOOST_TEST(contains(second.err, "another fl-hub"), second.err);
  BOOST_TEST(!contains(second.out + second.err, "listening on"), second.out << second.err);
  BOOST_TEST(read_text(hub.key_file()) == manager_key);  // no new manager key written

  // The first hub serves on: its model and key are there, uploads are taken.
  const auto models = listed(hub);
  BOOST_REQUIRE(models.size() == 1u);
  BOOST_TEST(models[0]["name"] == "fm");
  BOOST_TEST(status(hub, "fm")["contributions"].size() == 0u);
  expect_ok(participant("download", {"--hub", hub.address, "--key", key, "--model", "fm", "--out", dir / "v0.pkg"}));
  expect_ok(participant("train", {"--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,1", "--out", dir / "p1.fhc",
                                  "--seed", "1", "--quiet"}));
  expect_ok(participant("upload", {"--hub", hub.address, "--key", key, "--weights", dir / "p1.fhc"}));
  BOOST_TEST(status(hub, "fm")["contributions"].size() == 1u);
  hub.stop();
}

// docs/reliability.md, "Bad input": a data directory fl-hub cannot use is
// refused at start with its path, before listening, and left as it was: a
// regular file, and a path under a regular file (the tests run as root,
// where chmod 000 does not stop RocksDB; as another user a directory of
// mode 000 is tried too).
BOOST_AUTO_TEST_CASE(an_unusable_data_directory_is_refused_at_start) {
  TempDir dir;
  write_text(dir / "file", "not a directory");
  std::vector<std::string> unusable{dir / "file", dir / "file/data"};
  if (::geteuid() != 0) {
    fs::create_directories(dir / "locked");
    fs::permissions(dir / "locked", fs::perms::none);
    unusable.push_back(dir / "locked");
  }
  for (const auto& data : unusable) {
    auto r = fl_hub({"--port", std::to_string(free_port()), "--data-dir", data});
    expect_refused(r, "fl-hub: error: ");
    BOOST_TEST(contains(r.err, data), r.err);
    BOOST_TEST(!contains(r.out + r.err, "listening on"), r.out << r.err);
  }
  BOOST_TEST(read_text(dir / "file") == "not a directory");
  if (::geteuid() != 0) {
    fs::permissions(dir / "locked", fs::perms::owner_all);
    BOOST_TEST(fs::is_empty(dir / "locked"));
  }
}

// (d) for fl-participant as for fl-manager: `--version -5` is a usage error
// (exit 2, naming --version), found before connecting (no hub listens here).
BOOST_AUTO_TEST_CASE(version_minus_5_is_a_usage_error_before_connecting) {
  auto r = participant(
      "download", {"--hub", "127.0.0.1:1", "--key", "fhk_x", "--model", "fm", "--version", "-5", "--out", "x.pkg"});
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(contains(r.err, "--version"), r.err);
  BOOST_TEST(contains(r.err, "-5"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()
