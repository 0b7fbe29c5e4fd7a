// HTTPS on the HTTP door (issue 10, TLS; docs/operations.md "TLS") across
// real processes: `fl-hub init-tls` makes the files; a hub with tls_* in its
// config answers curl --cacert over https (an authenticated call, a package
// that is the same bytes as over plain HTTP, the dashboard's files); a wrong
// CA or a wrong name is refused (curl exit 60); plain HTTP to the TLS port
// fails at once, and a client that sends nothing is closed at the head
// deadline; mutual TLS refuses clients without a certificate of the CA; plain
// HTTP beyond loopback needs allow_plain_remote.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

unsigned mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

RunResult init_tls(std::vector<std::string> args) {
  args.insert(args.begin(), {kBin + "/fl-hub", "init-tls"});
  return run_bounded(args, 60);
}

// fl-hub on `data` with `config`; reads the CAF and HTTP ports from its lines.
struct Hub {
  std::unique_ptr<Child> process;
  std::string caf;
  uint16_t http_port = 0;
  std::string scheme;  // "http" or "https", as its line says

  Hub(const TempDir& dir, const json& config) {
    write_text(dir / "hub.json", config.dump());
    process = std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--config", dir / "hub.json"});
    auto line = wait_line(*process, "listening on");
    const auto at = line.find("127.0.0.1:");
    caf = line.substr(at, line.find(' ', at) - at);
    line = wait_line(*process, "HTTP API and dashboard on");
    scheme = line.substr(line.find(" on ") + 4, line.find("://") - line.find(" on ") - 4);
    http_port = static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  }
  ~Hub() { stop(); }
  void stop() {
    if (!process) return;
    process->signal(SIGTERM);
    process->wait_at_most(30s);
    process.reset();
  }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(http_port) + path;
  }
};

RunResult curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/curl", "-sS", "--max-time", "20"});
  return run_bounded(args, 40);
}

// A loopback TCP connection to `port` with a receive timeout.
int connect_to(uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("cannot connect");
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Everything the hub sends on `fd` until it closes (or the receive timeout).
std::string read_to_close(int fd) {
  std::string in;
  char buf[4096];
  while (true) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

// Two deployments made by fl-hub init-tls (the second: a wrong CA), and a
// data directory with a model and a participant key, made over plain HTTP
// and CAF first, with the package as plain HTTP serves it.
struct Fixture {
  TempDir dir;
  std::string pki, other, key, pkey, plain_package;
  json base;

  Fixture() : pki(dir / "pki"), other(dir / "other") {
    expect_ok(init_tls({pki, "--client", "org-1"}));
    expect_ok(init_tls({other, "--client", "org-1"}));
    base = {{"port", 0}, {"http_port", 0}, {"data_dir", dir / "data"}, {"http_head_timeout_ms", 2000}};
    Hub plain(dir, base);
    BOOST_REQUIRE(plain.scheme == "http");
    key = trimmed(read_text(dir / "data/manager.key"));
    write_text(
        dir / "recipe.json",
        R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":20,"samples_per_round":640})");
    expect_ok(run_bounded({kBin + "/fl-manager", "--hub", plain.caf, "--key", key, "--timeout", "20", "create",
                           "fmnist", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                           kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}));
    auto r = run_bounded({kBin + "/fl-manager", "--hub", plain.caf, "--key", key, "--timeout", "20", "keys", "add",
                          "org-1", "--role", "participant"});
    expect_ok(r);
    pkey = trimmed(r.out);
    const std::string url =
        "http://127.0.0.1:" + std::to_string(plain.http_port) + "/api/v1/models/fmnist/versions/current/package";
    expect_ok(curl({"-f", "-H", "Authorization: Bearer " + pkey, "-o", dir / "plain.fhmp", url}));
    plain_package = read_text(dir / "plain.fhmp");
    BOOST_REQUIRE(plain_package.size() > 1000);
  }
  json tls(bool mutual = false) const {
    json c = base;
    c["tls_certificate"] = pki + "/hub.pem";
    c["tls_key"] = pki + "/hub.key";
    if (mutual) c["tls_client_ca"] = pki + "/ca.pem";
    return c;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(https_door)

BOOST_AUTO_TEST_CASE(init_tls_makes_the_files_and_keeps_an_existing_ca) {
  TempDir dir;
  const std::string pki = dir / "pki";
  auto r = init_tls({pki, "--name", "hub.example.org", "--name", "10.1.2.3", "--client", "org-1", "--client", "org-2"});
  expect_ok(r);
  for (const char* f : {"ca.pem", "hub.pem", "clients/org-1.pem", "clients/org-2.pem"})
    BOOST_TEST(mode_of(pki + "/" + f) == 0644u, f);
  for (const char* f : {"ca.key", "hub.key", "clients/org-1.key", "clients/org-2.key"})
    BOOST_TEST(mode_of(pki + "/" + f) == 0600u, f);
  BOOST_TEST(contains(r.out, "\"tls_certificate\": \"" + pki + "/hub.pem\""), r.out);
  BOOST_TEST(contains(r.out, "\"tls_key\": \"" + pki + "/hub.key\""));
  BOOST_TEST(contains(r.out, "\"tls_client_ca\": \"" + pki + "/ca.pem\""));
  BOOST_TEST(contains(r.out, "--ca-file " + pki + "/ca.pem"));
  BOOST_TEST(contains(r.out, "curl --cacert " + pki + "/ca.pem"));
  // The names are in the certificate, the IP address as an IP address.
  auto text = run_bounded(
      {"/usr/bin/openssl", "x509", "-in", pki + "/hub.pem", "-noout", "-ext", "subjectAltName,extendedKeyUsage"});
  expect_ok(text);
  BOOST_TEST(contains(text.out, "DNS:hub.example.org, IP Address:10.1.2.3"), text.out);
  BOOST_TEST(contains(text.out, "TLS Web Server Authentication"));
  expect_ok(run_bounded(
      {"/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.pem", "-purpose", "sslclient", pki + "/clients/org-1.pem"}));

  const std::string ca = read_text(pki + "/ca.pem");
  r = init_tls({pki});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "already holds a CA"), r.err);
  r = init_tls({pki, "--client", "org-1"});  // exists
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "org-1.pem' exists"), r.err);
  r = init_tls({pki, "--client", "org-3"});  // added to the same CA
  expect_ok(r);
  BOOST_TEST(read_text(pki + "/ca.pem") == ca);
  expect_ok(run_bounded({"/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.pem", pki + "/clients/org-3.pem"}));
  r = init_tls({pki, "--force"});
  expect_ok(r);
  BOOST_TEST(read_text(pki + "/ca.pem") != ca);

  r = init_tls({dir / "bad", "--name", "not a name"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "'not a name' is neither a host name nor an IP address"), r.err);
  BOOST_TEST(!fs::exists(dir / "bad"));  // nothing written
  r = init_tls({});
  BOOST_TEST(r.exit_code == 2);
  r = init_tls({"--help"});
  expect_ok(r);
  BOOST_TEST(contains(r.out, "Usage: fl-hub init-tls DIR"));
  // Default names: loopback and this machine's name.
  expect_ok(init_tls({dir / "default"}));
  text = run_bounded({"/usr/bin/openssl", "x509", "-in", dir / "default/hub.pem", "-noout", "-ext", "subjectAltName"});
  BOOST_TEST(contains(text.out, "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"), text.out);
}

BOOST_AUTO_TEST_CASE(https_round_trip_and_what_is_refused) {
  Fixture f;
  Hub hub(f.dir, f.tls());
  BOOST_TEST(hub.scheme == "https");
  const std::string ca = f.pki + "/ca.pem";

  // An authenticated call and downloads, verified against the CA.
  auto r = curl({"-f", "--cacert", ca, "-H", "Authorization: Bearer " + f.key, hub.url("/api/v1/whoami")});
  expect_ok(r);
  BOOST_TEST(json::parse(r.out) == (json{{"name", "manager"}, {"role", "manager"}}));
  expect_ok(curl({"-f", "--cacert", ca, "-H", "Authorization: Bearer " + f.pkey, "-o", f.dir / "tls.fhmp",
                  hub.url("/api/v1/models/fmnist/versions/current/package", "localhost")}));
  BOOST_TEST(read_text(f.dir / "tls.fhmp") == f.plain_package, "the package over HTTPS differs from plain HTTP's");
  r = curl({"-f", "--cacert", ca, "-H", "Authorization: Bearer " + f.pkey, "-H", "Range: bytes=0-63", "-o",
            f.dir / "head.bin", "-w", "%{http_code}", hub.url("/api/v1/models/fmnist/versions/0/package")});
  expect_ok(r);
  BOOST_TEST(r.out == "206");
  BOOST_TEST(read_text(f.dir / "head.bin") == f.plain_package.substr(0, 64));
  expect_ok(curl({"-f", "--cacert", ca, "-o", f.dir / "chart.js", hub.url("/static/chart.js")}));
  BOOST_TEST(fs::file_size(f.dir / "chart.js") > 1000u);
  // A JSON body in (POST over TLS), and a refusal's status.
  r = curl({"-f", "--cacert", ca, "-H", "Authorization: Bearer " + f.key, "-H", "Content-Type: application/json", "-d",
            R"({"name": "org-9", "role": "participant"})", hub.url("/api/v1/keys")});
  expect_ok(r);
  BOOST_TEST(json::parse(r.out)["name"] == "org-9");
  r = curl({"--cacert", ca, "-o", "/dev/null", "-w", "%{http_code}", hub.url("/api/v1/whoami")});
  BOOST_TEST(r.out == "401");

  // A wrong CA, and a name the certificate does not hold: curl exit 60.
  r = curl({"-f", "--cacert", f.other + "/ca.pem", hub.url("/api/v1/whoami")});
  BOOST_TEST(r.exit_code == 60, r.err);
  r = curl({"-f", "--cacert", ca, "--resolve", "wrong.example.org:" + std::to_string(hub.http_port) + ":127.0.0.1",
            hub.url("/api/v1/whoami", "wrong.example.org")});
  BOOST_TEST(r.exit_code == 60, r.err);
  // Without any CA (the system's): refused too.
  r = curl({"-f", hub.url("/api/v1/whoami")});
  BOOST_TEST(r.exit_code == 60, r.err);

  // Plain HTTP to the TLS port: a plain 400 naming HTTPS, at once.
  const auto start = std::chrono::steady_clock::now();
  r = curl({"-f", "http://127.0.0.1:" + std::to_string(hub.http_port) + "/api/v1/whoami"});
  BOOST_TEST(r.exit_code == 22, r.err);
  r = curl({"http://127.0.0.1:" + std::to_string(hub.http_port) + "/api/v1/whoami"});
  BOOST_TEST(contains(r.out, "this door speaks HTTPS"), r.out);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
  // Bytes that are no TLS: closed without an answer; silence: closed at the
  // head deadline (2 s), not held.
  int fd = connect_to(hub.http_port, 20s);
  ::send(fd, "\x16\x03\x01\x00\x05hello", 10, MSG_NOSIGNAL);
  BOOST_TEST(read_to_close(fd).size() < 16u);  // at most an alert
  ::close(fd);
  const auto quiet = std::chrono::steady_clock::now();
  fd = connect_to(hub.http_port, 20s);
  BOOST_TEST(read_to_close(fd).empty());
  const auto held = std::chrono::steady_clock::now() - quiet;
  ::close(fd);
  BOOST_TEST((held >= 1500ms && held < 10s), std::chrono::duration_cast<std::chrono::milliseconds>(held).count());
  // Still serving, and the refusals counted.
  r = curl({"-f", "--cacert", ca, hub.url("/metrics")});
  expect_ok(r);
  BOOST_TEST(contains(r.out, "fedhub_http_tls_refused_total{reason=\"plain_http\"} 2"), r.out);
  BOOST_TEST(contains(r.out, "fedhub_http_tls_refused_total{reason=\"timeout\"} 1"));
}

BOOST_AUTO_TEST_CASE(mutual_tls_needs_a_client_certificate_of_the_ca) {
  Fixture f;
  Hub hub(f.dir, f.tls(true));
  const std::string ca = f.pki + "/ca.pem";
  const auto auth = "Authorization: Bearer " + f.pkey;
  auto r = curl({"-f", "--cacert", ca, "-H", auth, hub.url("/api/v1/whoami")});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.out.empty());
  r = curl({"-f", "--cacert", ca, "--cert", f.other + "/clients/org-1.pem", "--key", f.other + "/clients/org-1.key",
            "-H", auth, hub.url("/api/v1/whoami")});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.out.empty());
  // The hub's own certificate is no client certificate.
  r = curl({"-f", "--cacert", ca, "--cert", f.pki + "/hub.pem", "--key", f.pki + "/hub.key", "-H", auth,
            hub.url("/api/v1/whoami")});
  BOOST_TEST(r.exit_code != 0);
  r = curl({"-f", "--cacert", ca, "--cert", f.pki + "/clients/org-1.pem", "--key", f.pki + "/clients/org-1.key", "-H",
            auth, hub.url("/api/v1/whoami")});
  expect_ok(r);
  BOOST_TEST(json::parse(r.out)["name"] == "org-1");
  // The certificate is on top of the key, not instead of it.
  r = curl({"--cacert", ca, "--cert", f.pki + "/clients/org-1.pem", "--key", f.pki + "/clients/org-1.key", "-o",
            "/dev/null", "-w", "%{http_code}", hub.url("/api/v1/whoami")});
  BOOST_TEST(r.out == "401");
}

BOOST_AUTO_TEST_CASE(plain_http_beyond_loopback_needs_allow_plain_remote) {
  TempDir dir;
  json cfg{{"port", 0}, {"http_port", 0}, {"http_bind", "0.0.0.0"}, {"data_dir", dir / "data"}};
  write_text(dir / "hub.json", cfg.dump());
  auto r = run_bounded({kBin + "/fl-hub", "--config", dir / "hub.json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "the HTTP door would listen on 0.0.0.0 (http_bind) without TLS"), r.err);
  BOOST_TEST(!fs::exists(dir / "data"));  // refused before anything is written

  cfg["allow_plain_remote"] = true;
  write_text(dir / "hub.json", cfg.dump());
  {
    Child warned({kBin + "/fl-hub", "--config", dir / "hub.json"});
    wait_line(warned, "fl-hub: warning: the HTTP door listens on 0.0.0.0 without TLS (allow_plain_remote)");
    wait_line(warned, "HTTP API and dashboard on http://0.0.0.0:");
    warned.signal(SIGTERM);
    BOOST_TEST(warned.wait_at_most(30s) == 0);
  }

  // With TLS, 0.0.0.0 is fine and nothing is said.
  expect_ok(init_tls({dir / "pki"}));
  cfg.erase("allow_plain_remote");
  cfg["tls_certificate"] = dir / "pki/hub.pem";
  cfg["tls_key"] = dir / "pki/hub.key";
  Hub hub(dir, cfg);
  BOOST_TEST(hub.scheme == "https");
  expect_ok(curl({"-f", "--cacert", dir / "pki/ca.pem", "-o", "/dev/null", hub.url("/static/chart.js")}));

  // A wrong key file stops the hub with the file named.
  hub.stop();
  cfg["tls_key"] = dir / "pki/ca.key";
  write_text(dir / "hub.json", cfg.dump());
  r = run_bounded({kBin + "/fl-hub", "--config", dir / "hub.json"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, dir / "pki/ca.key"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()
