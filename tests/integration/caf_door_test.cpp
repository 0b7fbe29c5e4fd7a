// Issue 10, items 0 and 3 on the CAF door, against a real fl-hub process:
// a peer with no key cannot make the hub reserve memory (headers announcing
// 4 GB, on several connections, again and again: RSS stays flat), idle
// handshakes are closed, a peer over its connection slots is refused; TLS
// round trips with fl-manager and fl-participant (caf_openssl) and certificates
// from `fl-hub init-tls`; a client with the wrong CA and a plain client are
// refused; `fl-hub backup` of a TLS hub with --ca-file, and its refusal
// without; mutual TLS needs a client certificate; plain TCP beyond loopback
// needs allow_plain_remote.
//
// Every wait is bounded: commands run under timeout(1), the hub's lines are
// read with a watchdog, sockets are polled with deadlines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
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
constexpr auto kLimit = std::chrono::seconds(30);

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Resident memory of a process in kB (VmRSS).
long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

struct Hub {
  std::string dir;
  std::unique_ptr<Child> process;
  uint16_t port = 0;
  std::string address;

  // Starts fl-hub with a config file holding `settings` (plus port and data_dir).
  Hub(const std::string& in, json settings) : dir(in) {
    fs::create_directories(dir);
    port = free_port();
    settings["port"] = port;
    settings["data_dir"] = dir + "/data";
    write_text(dir + "/hub.json", settings.dump());
    process = std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--config", dir + "/hub.json"});
    const auto line = wait_line(*process, "listening on");
    address = "127.0.0.1:" + std::to_string(port);
    BOOST_REQUIRE_MESSAGE(contains(line, address), line);
  }
  ~Hub() {
    process->signal(SIGTERM);
    process->wait_at_most(kLimit);
  }
  std::string key_file() const { return dir + "/data/manager.key"; }
};

RunResult manager(const Hub& hub, std::vector<std::string> tls, std::vector<std::string> args) {
  std::vector<std::string> argv{kBin + "/fl-manager", "--hub",     hub.address, "--key-file",
                                hub.key_file(),       "--timeout", "10"};
  argv.insert(argv.end(), tls.begin(), tls.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_bounded(argv);
}

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

// A raw TCP connection to the hub's CAF door.
class Raw {
 public:
  explicit Raw(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    BOOST_REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Raw() { ::close(fd_); }
  void send(const std::string& bytes) { (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Whether the hub ends the connection within `limit` (what it sends is dropped).
  bool ends_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
    }
  }

 private:
  int fd_ = -1;
};

// A BASP header: operation, then the announced payload length (big-endian).
std::string basp_header(unsigned operation, uint32_t payload_len) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(operation);
  h[4] = static_cast<char>(payload_len >> 24);
  h[5] = static_cast<char>(payload_len >> 16);
  h[6] = static_cast<char>(payload_len >> 8);
  h[7] = static_cast<char>(payload_len);
  return h;
}

// `fl-hub init-tls DIR` with clients; returns DIR.
std::string init_tls(const std::string& dir, std::vector<std::string> clients = {}) {
  std::vector<std::string> argv{kBin + "/fl-hub", "init-tls", dir};
  for (const auto& c : clients) {
    argv.push_back("--client");
    argv.push_back(c);
  }
  expect_ok(run_bounded(argv));
  BOOST_REQUIRE(fs::exists(dir + "/ca.pem") && fs::exists(dir + "/hub.pem") && fs::exists(dir + "/hub.key"));
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(caf_door)

BOOST_AUTO_TEST_CASE(headers_announcing_4_gb_leave_the_hubs_memory_flat) {
  TempDir dir;
  Hub hub(dir / "hub", {{"handshake_timeout_ms", 20000}});
  expect_ok(manager(hub, {}, {"list"}));
  const long before = rss_kb(hub.process->pid());
  // Each round: three connections announcing 0xFFFFFFFF bytes (as a client
  // handshake, and as a message without one); CAF alone would reserve and
  // fill ~4 GB for each.
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<Raw>> peers;
    for (int i = 0; i < 3; ++i) {
      peers.push_back(std::make_unique<Raw>(hub.port));
      peers.back()->send(basp_header(i == 2 ? 2 : 1, 0xFFFFFFFFu) + std::string(4096, 'x'));
    }
    for (auto& p : peers) BOOST_TEST(p->ends_within(std::chrono::seconds(20)));
  }
  const long after = rss_kb(hub.process->pid());
  BOOST_TEST_MESSAGE("hub RSS " << before << " kB before, " << after << " kB after 15 connections announcing 4 GB");
  BOOST_TEST(after - before < 32 * 1024, "RSS grew by " << (after - before) << " kB");
  // The hub serves on.
  expect_ok(manager(hub, {}, {"list"}));
}

BOOST_AUTO_TEST_CASE(idle_handshakes_are_closed_and_a_peer_over_its_slots_is_refused) {
  TempDir dir;
  Hub hub(dir / "hub", {{"handshake_timeout_ms", 500}, {"max_connections_per_peer", 4}});
  {
    std::vector<std::unique_ptr<Raw>> idle;
    for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<Raw>(hub.port));
    // A fifth from the same address is closed at once: the four hold the slots.
    Raw fifth(hub.port);
    BOOST_TEST(fifth.ends_within(std::chrono::seconds(20)));
    // The four never speak: closed at the handshake deadline.
    for (auto& r : idle) BOOST_TEST(r->ends_within(std::chrono::seconds(20)));
  }
  // Their slots came back: a real client gets in.
  RunResult r;
  for (int attempt = 0; attempt < 50; ++attempt) {  // until the guard has seen the four ends
    r = manager(hub, {}, {"list"});
    if (r.exit_code == 0) break;
  }
  expect_ok(r);
}

BOOST_AUTO_TEST_CASE(tls_round_trip_and_refusals) {
  TempDir dir;
  const std::string tls = init_tls(dir / "tls");
  const std::string other = init_tls(dir / "other");  // another CA
  Hub hub(dir / "hub", {{"tls_certificate", tls + "/hub.pem"}, {"tls_key", tls + "/hub.key"}});
  const std::vector<std::string> ca{"--ca-file", tls + "/ca.pem"};

  // Round trip: create a model, list it, download its package over TLS.
  write_text(dir / "recipe.json",
             R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":5,"samples_per_round":64})");
  expect_ok(manager(hub, ca,
                    {"create", "fm", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                     kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}));
  auto listed = manager(hub, ca, {"--json", "list"});
  expect_ok(listed);
  BOOST_TEST(contains(listed.out, "\"fm\""));
  auto added = manager(hub, ca, {"keys", "add", "p1", "--role", "participant"});
  expect_ok(added);
  const std::string key = added.out.substr(0, added.out.find('\n'));
  auto got = run_bounded({kBin + "/fl-participant", "download", "--hub", hub.address, "--key", key, "--ca-file",
                          tls + "/ca.pem", "--model", "fm", "--out", dir / "fm.pkg"});
  expect_ok(got);
  BOOST_TEST(fs::file_size(dir / "fm.pkg") > 200000u);  // the MLP's 51,000 weights came through TLS

  // The wrong CA: refused, and the error says what to check.
  auto wrong = manager(hub, {"--ca-file", other + "/ca.pem"}, {"list"});
  BOOST_TEST(wrong.exit_code != 0);
  BOOST_TEST(contains(wrong.err, "over TLS"), wrong.err);
  BOOST_TEST(contains(wrong.err, "--ca-file"), wrong.err);
  // A plain client cannot talk to a TLS hub.
  auto plain = manager(hub, {}, {"list"});
  BOOST_TEST(plain.exit_code != 0);
  BOOST_TEST(contains(plain.err, "cannot reach a hub"), plain.err);
  // A missing CA file is named.
  auto missing = manager(hub, {"--ca-file", dir / "no-such.pem"}, {"list"});
  BOOST_TEST(missing.exit_code != 0);
  BOOST_TEST(contains(missing.err, "no-such.pem"), missing.err);
  // And the TLS hub still serves.
  expect_ok(manager(hub, ca, {"list"}));
}

// `fl-hub backup` of a running TLS hub: with --ca-file the hub writes the
// backup; without it (the hub's config names a certificate) it is refused
// before connecting and says what is missing; with only --data-dir and
// --port (no config) the plain connection fails and names --ca-file too.
BOOST_AUTO_TEST_CASE(fl_hub_backup_of_a_tls_hub_needs_ca_file) {
  TempDir dir;
  const std::string tls = init_tls(dir / "tls");
  const std::string other = init_tls(dir / "other");
  Hub hub(dir / "hub", {{"tls_certificate", tls + "/hub.pem"}, {"tls_key", tls + "/hub.key"}});
  const std::string config = hub.dir + "/hub.json";

  const std::string backup = dir / "backup";
  auto taken = run_bounded({kBin + "/fl-hub", "--config", config, "backup", "--out", backup, "--ca-file",
                            tls + "/ca.pem", "--timeout", "20"});
  expect_ok(taken);
  BOOST_TEST(contains(taken.out, "fl-hub: backup written to " + backup), taken.out);
  BOOST_TEST(contains(taken.out, "(by the running hub)"), taken.out);
  BOOST_TEST(fs::exists(backup + "/CURRENT"));

  // No CA file: refused at once, naming the option and the variable.
  auto no_ca = run_bounded({kBin + "/fl-hub", "--config", config, "backup", "--out", dir / "b-no-ca"});
  BOOST_TEST(no_ca.exit_code == 2, no_ca.exit_code << ": " << no_ca.err);
  BOOST_TEST(contains(no_ca.err, "speaks TLS"), no_ca.err);
  BOOST_TEST(contains(no_ca.err, "--ca-file"), no_ca.err);
  BOOST_TEST(contains(no_ca.err, "FEDHUB_CA_FILE"), no_ca.err);
  BOOST_TEST(!fs::exists(dir / "b-no-ca"));
  // Without the config, the plain connection fails and the error names --ca-file.
  auto plain = run_bounded({kBin + "/fl-hub", "--data-dir", hub.dir + "/data", "--port", std::to_string(hub.port),
                            "backup", "--out", dir / "b-plain", "--timeout", "10"});
  BOOST_TEST(plain.exit_code == 1, plain.exit_code << ": " << plain.err);
  BOOST_TEST(contains(plain.err, "unavailable"), plain.err);
  BOOST_TEST(contains(plain.err, "--ca-file"), plain.err);
  BOOST_TEST(!fs::exists(dir / "b-plain"));
  // Another CA's file: the hub's certificate is refused.
  auto wrong = run_bounded({kBin + "/fl-hub", "--config", config, "backup", "--out", dir / "b-wrong", "--ca-file",
                            other + "/ca.pem", "--timeout", "10"});
  BOOST_TEST(wrong.exit_code == 1, wrong.exit_code << ": " << wrong.err);
  BOOST_TEST(contains(wrong.err, "over TLS"), wrong.err);
  BOOST_TEST(!fs::exists(dir / "b-wrong"));
  // The hub serves on.
  expect_ok(manager(hub, {"--ca-file", tls + "/ca.pem"}, {"list"}));
}

BOOST_AUTO_TEST_CASE(mutual_tls_needs_a_client_certificate_of_the_hubs_ca) {
  TempDir dir;
  const std::string tls = init_tls(dir / "tls", {"alice"});
  const std::string other = init_tls(dir / "other", {"mallory"});
  Hub hub(dir / "hub",
          {{"tls_certificate", tls + "/hub.pem"}, {"tls_key", tls + "/hub.key"}, {"tls_client_ca", tls + "/ca.pem"}});
  const std::string ca = tls + "/ca.pem";
  BOOST_TEST(manager(hub, {"--ca-file", ca}, {"list"}).exit_code != 0);  // no client certificate
  BOOST_TEST(
      manager(hub,
              {"--ca-file", ca, "--cert", other + "/clients/mallory.pem", "--cert-key", other + "/clients/mallory.key"},
              {"list"})
          .exit_code != 0);  // one of another CA
  expect_ok(manager(hub,
                    {"--ca-file", ca, "--cert", tls + "/clients/alice.pem", "--cert-key", tls + "/clients/alice.key"},
                    {"list"}));
}

BOOST_AUTO_TEST_CASE(plain_tcp_beyond_loopback_needs_allow_plain_remote) {
  TempDir dir;
  write_text(dir / "hub.json", json{{"bind", "0.0.0.0"}, {"port", free_port()}, {"data_dir", dir / "data"}}.dump());
  auto refused = run_bounded({kBin + "/fl-hub", "--config", dir / "hub.json"});
  BOOST_TEST(refused.exit_code != 0);
  BOOST_TEST(contains(refused.err, "allow_plain_remote"), refused.err);
  BOOST_TEST(!fs::exists(dir / "data"), "nothing is written before the refusal");
}

BOOST_AUTO_TEST_SUITE_END()
