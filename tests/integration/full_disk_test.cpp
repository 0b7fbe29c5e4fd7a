// Issue 10, item 2: a full disk. A real fl-hub keeps its data directory on a
// small tmpfs the test mounts (as root; skipped with a message otherwise);
// a filler file takes every free byte. Uploads and merges are then refused
// with storage_full, downloads and status keep working and show nothing
// half-written; once the filler is gone the same hub accepts and merges
// again without a restart, and a restart finds exactly what was
// acknowledged.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;
const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";

// A tmpfs of 48 MiB mounted on `path`, unmounted (lazily, so that a hub
// still holding files cannot keep it) when the guard goes, also on failure.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& path) : path_(path) {
    std::filesystem::create_directories(path);
    if (::geteuid() != 0) {
      why_ = "not running as root (uid " + std::to_string(::geteuid()) + ")";
      return;
    }
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=48m") != 0) {
      why_ = std::string("mount -t tmpfs -o size=48m tmpfs ") + path + ": " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string why_;
};

// Writes `path` until the filesystem has no byte left (ENOSPC), in ever
// smaller writes so that the last partial block is taken too. Returns the
// bytes written.
uint64_t fill(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  BOOST_REQUIRE_MESSAGE(fd >= 0, "cannot create the filler " << path << ": " << std::strerror(errno));
  std::vector<char> block(1 << 20, 'x');
  uint64_t total = 0;
  for (size_t size = block.size(); size > 0; size /= 2) {
    for (;;) {
      const ssize_t n = ::write(fd, block.data(), size);
      if (n > 0) {
        total += static_cast<uint64_t>(n);
        continue;
      }
      BOOST_REQUIRE_MESSAGE(n < 0 && errno == ENOSPC, "filling " << path << ": " << std::strerror(errno));
      break;
    }
  }
  ::close(fd);
  return total;
}

struct Hub {
  std::string data_dir;
  std::unique_ptr<Child> process;
  std::string address;

  void start() {
    process =
        std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--port", "0", "--data-dir", data_dir});
    auto line = wait_line(*process, "listening on");
    auto at = line.find("listening on ") + 13;
    address = line.substr(at, line.find(' ', at) - at);
  }

  void stop() {
    process->signal(SIGTERM);
    BOOST_TEST(process->wait_at_most(std::chrono::seconds(30)) == 0);
  }
};

RunResult manager(const Hub& hub, std::vector<std::string> args) {
  std::vector<std::string> argv{kBin + "/fl-manager",          "--hub",     hub.address, "--key-file",
                                hub.data_dir + "/manager.key", "--timeout", "60"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv, 90);
}

RunResult participant(std::vector<std::string> args) {
  args.insert(args.begin(), kBin + "/fl-participant");
  return run_bounded(args, 90);
}

RunResult hub_participant(const Hub& hub, const std::string& key, std::vector<std::string> args) {
  args.insert(args.end(), {"--hub", hub.address, "--key", key});
  return participant(args);
}

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

// A refusal with storage_full whose sentence names the full directory and
// says what to do.
void expect_storage_full(const RunResult& r, const std::string& data_dir) {
  BOOST_TEST(r.exit_code == 1, "exit code " << r.exit_code << ", stderr: " << r.err);
  BOOST_TEST(r.err.find("error: storage_full:") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("the hub's data directory '" + data_dir + "' is full") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("Free space on its filesystem") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("retries by itself") != std::string::npos, r.err);
}

std::string add_key(const Hub& hub, const std::string& name) {
  auto r = manager(hub, {"keys", "add", name, "--role", "participant"});
  expect_ok(r);
  return r.out.substr(0, r.out.find('\n'));
}

json status(const Hub& hub, int64_t version = -1) {
  auto r = manager(hub, {"--json", "status", "fd", "--version", std::to_string(version)});
  expect_ok(r);
  return json::parse(r.out);
}

std::vector<std::string> contributors(const json& st) {
  std::vector<std::string> out;
  for (const auto& c : st["contributions"]) out.push_back(c["participant"]);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(full_disk)

BOOST_AUTO_TEST_CASE(uploads_and_merges_refused_reads_work_recovers_without_restart) {
  TempDir dir;  // outside the mount: the trained contributions and downloads
  const std::string mnt = dir / "mnt";
  TmpfsMount mount(mnt);
  if (!mount.mounted()) {
    const std::string line = "full_disk_test: skipped: cannot mount a tmpfs (needs root): " + mount.why();
    std::cout << line << std::endl;  // CTest's output shows why
    BOOST_TEST_MESSAGE(line);
    return;
  }
  Hub hub;
  hub.data_dir = mnt + "/data";
  hub.start();

  std::ofstream(dir / "recipe.json")
      << R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":5,"samples_per_round":160})";
  expect_ok(manager(hub, {"create", "fd", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                          kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}));
  const auto alice = add_key(hub, "alice");
  const auto bob = add_key(hub, "bob");
  expect_ok(hub_participant(hub, alice, {"download", "--model", "fd", "--out", dir / "v0.pkg"}));
  for (const auto& [who, seed] : {std::pair{"alice", "1"}, std::pair{"bob", "2"}})
    expect_ok(participant({"train", "--in", dir / "v0.pkg", "--data", "idx:" + kFashion + ":0,1,2,3,4", "--out",
                           dir / (std::string(who) + ".fhc"), "--seed", seed}));

  // One upload while there is space.
  expect_ok(hub_participant(hub, alice, {"upload", "--model", "fd", "--weights", dir / "alice.fhc"}));

  // The disk fills.
  const uint64_t filled = fill(mnt + "/filler");
  BOOST_TEST_MESSAGE("the filler took " << filled << " bytes");

  // Writes are refused with storage_full, and nothing of them shows.
  expect_storage_full(hub_participant(hub, bob, {"upload", "--model", "fd", "--weights", dir / "bob.fhc"}),
                      hub.data_dir);
  expect_storage_full(manager(hub, {"merge", "fd", "--base", "0"}), hub.data_dir);
  // Reads keep working: status and the current version's download.
  auto full = status(hub);
  BOOST_TEST(full["current_version"] == 0);
  BOOST_TEST(full["versions"].size() == 1u);
  BOOST_TEST((contributors(full) == std::vector<std::string>{"alice"}));
  expect_ok(hub_participant(hub, bob, {"download", "--model", "fd", "--out", dir / "v0-full.pkg"}));
  BOOST_TEST((read_all(dir / "v0.pkg") == read_all(dir / "v0-full.pkg")));
  // Refused again while still full (the store's resume fails first).
  expect_storage_full(hub_participant(hub, bob, {"upload", "--model", "fd", "--weights", dir / "bob.fhc"}),
                      hub.data_dir);

  // Space returns: the same hub process accepts and merges again. The store
  // resumes synchronously before its next write, so no waiting is needed.
  std::filesystem::remove(mnt + "/filler");
  expect_ok(hub_participant(hub, bob, {"upload", "--model", "fd", "--weights", dir / "bob.fhc"}));
  BOOST_TEST((contributors(status(hub)) == std::vector<std::string>{"alice", "bob"}));
  auto merged = manager(hub, {"--json", "merge", "fd", "--base", "0"});
  expect_ok(merged);
  BOOST_TEST(json::parse(merged.out)["new_version"] == 1);
  expect_ok(hub_participant(hub, alice, {"download", "--model", "fd", "--out", dir / "v1.pkg"}));

  // A restart finds exactly what was acknowledged.
  hub.stop();
  hub.start();
  auto after = status(hub);
  BOOST_TEST(after["current_version"] == 1);
  BOOST_TEST(after["versions"].size() == 2u);
  BOOST_TEST(contributors(after).empty());
  BOOST_TEST((contributors(status(hub, 0)) == std::vector<std::string>{"alice", "bob"}));
  expect_ok(hub_participant(hub, alice, {"download", "--model", "fd", "--out", dir / "v1-after.pkg"}));
  BOOST_TEST((read_all(dir / "v1.pkg") == read_all(dir / "v1-after.pkg")));
  hub.stop();
}

BOOST_AUTO_TEST_SUITE_END()
