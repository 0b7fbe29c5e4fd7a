// The HTTP door (issue 9, docs/http-api.md) across real processes: a real
// fl-hub with --http-port, real fl-manager and fl-participant processes and
// curl, and raw sockets for what no well-behaved client sends. Checks that
// every curl example of the document runs, that a package over HTTP is the
// same bytes as over CAF, that bad input of every kind gets its status and
// stores nothing, that slow clients and too many connections are bounded,
// and that /metrics parses and counts both doors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "process.hpp"

using namespace fedhub::testing;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kBin = FEDHUB_BIN_DIR;
const std::string kSrc = FEDHUB_SOURCE_DIR;
const std::string kFashion = "/usr/share/datasets/fashion-mnist/t10k";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

void expect_ok(const RunResult& r) { BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "failed: " << r.err << r.out); }

// ---- raw HTTP over a socket

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  json error() const { return json::parse(body, nullptr, false); }
};

int connect_to(uint16_t port, std::chrono::milliseconds timeout = 20s) {
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

void send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the hub closed: its answer is still readable
    sent += static_cast<size_t>(n);
  }
}

// Reads one response: its head, then Content-Length bytes or up to the close.
Reply read_reply(int fd) {
  std::string in;
  char buf[65536];
  size_t head_end = std::string::npos;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) throw std::runtime_error("no complete response head; got: " + in);
    in.append(buf, static_cast<size_t>(n));
  }
  Reply r;
  std::istringstream head(in.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(colon + 2);
  }
  r.body = in.substr(head_end + 4);
  const auto length = r.headers.count("content-length") ? std::stoull(r.headers["content-length"]) : ~0ull;
  while (r.body.size() < length) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    r.body.append(buf, static_cast<size_t>(n));
  }
  return r;
}

Reply roundtrip(uint16_t port, const std::string& raw) {
  const int fd = connect_to(port);
  send_all(fd, raw);
  auto r = read_reply(fd);
  ::close(fd);
  return r;
}

std::string request(const std::string& method, const std::string& path, const std::string& key = {},
                    const std::string& content_type = {}, const std::string& body = {}, bool with_length = true) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!key.empty()) r += "Authorization: Bearer " + key + "\r\n";
  if (!content_type.empty()) r += "Content-Type: " + content_type + "\r\n";
  if (with_length && (method == "POST" || method == "PATCH" || !body.empty()))
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

// ---- a hub with its HTTP door

struct Hub {
  TempDir dir;
  std::unique_ptr<Child> process;
  std::string caf;  // host:port
  uint16_t http_port = 0;
  std::string key;   // the manager key
  std::string pkey;  // org-1's participant key

  explicit Hub(const json& extra_config = json::object()) {
    json cfg{{"port", 0}, {"http_port", 0}, {"data_dir", dir / "data"}};
    cfg.update(extra_config);
    write_text(dir / "hub.json", cfg.dump());
    process = std::make_unique<Child>(std::vector<std::string>{kBin + "/fl-hub", "--config", dir / "hub.json"});
    auto line = wait_line(*process, "listening on");
    caf = line.substr(line.find("127.0.0.1:"), line.find(' ', line.find("127.0.0.1:")) - line.find("127.0.0.1:"));
    line = wait_line(*process, "HTTP API and dashboard on");
    const auto at = line.rfind(':');
    http_port = static_cast<uint16_t>(std::stoi(line.substr(at + 1)));
    key = read_text(dir / "data/manager.key");
    while (!key.empty() && key.back() == '\n') key.pop_back();
    write_text(
        dir / "recipe.json",
        R"({"optimizer":{"name":"adam","learning_rate":0.002},"batch_size":32,"steps":20,"samples_per_round":640})");
    expect_ok(manager({"create", "fmnist", "--arch", kSrc + "/config/fmnist-mlp.arch.json", "--labels",
                       kSrc + "/config/fashion-mnist-labels.txt", "--recipe", dir / "recipe.json"}));
    pkey = add_key("org-1");
  }
  ~Hub() {
    if (process) {
      process->signal(SIGTERM);
      process->wait_at_most(30s);
    }
  }

  RunResult manager(std::vector<std::string> args) const {
    std::vector<std::string> argv{kBin + "/fl-manager", "--hub", caf, "--key", key, "--timeout", "20"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_bounded(argv);
  }
  std::string add_key(const std::string& name) const {
    auto r = manager({"keys", "add", name, "--role", "participant"});
    expect_ok(r);
    auto k = r.out;
    while (!k.empty() && k.back() == '\n') k.pop_back();
    return k;
  }
  // A trained contribution to version `version` (a file of `dir`).
  std::string trained(const std::string& participant_key, const std::string& name) const {
    const std::string package = dir / (name + ".fhmp"), out = dir / (name + ".bin");
    expect_ok(run_bounded({kBin + "/fl-participant", "download", "--hub", caf, "--key", participant_key, "--model",
                           "fmnist", "--out", package, "--quiet"}));
    expect_ok(run_bounded(
        {kBin + "/fl-participant", "train", "--in", package, "--data", "idx:" + kFashion, "--out", out, "--quiet"}));
    return out;
  }
  Reply call(const std::string& method, const std::string& path, const std::string& k = {},
             const std::string& type = {}, const std::string& body = {}) const {
    return roundtrip(http_port, request(method, path, k, type, body));
  }
  json status() const {
    auto r = call("GET", "/api/v1/models/fmnist", key);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
};

// The indented commands of a section of docs/http-api.md, up to its first
// paragraph after them.
std::vector<std::string> documented_commands() {
  std::istringstream doc(read_text(kSrc + "/docs/http-api.md"));
  std::vector<std::string> out;
  bool in_examples = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("## ", 0) == 0) in_examples = line == "## Examples";
    if (!in_examples) continue;
    if (line.rfind("    curl ", 0) == 0 || line.rfind("    fl-participant ", 0) == 0) out.push_back(line.substr(4));
    if (line.rfind("The event streams", 0) == 0) break;
  }
  return out;
}

void expect_error(const Reply& r, int status, const std::string& code, const std::string& message_part = {}) {
  BOOST_TEST(r.status == status, "status " << r.status << " (expected " << status << "): " << r.body);
  const auto e = r.error();
  BOOST_TEST((e.is_object() && e.value("error", "") == code), "expected error '" << code << "' in " << r.body);
  if (!message_part.empty())
    BOOST_TEST(contains(r.body, message_part), "expected '" << message_part << "' in " << r.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_door)

BOOST_AUTO_TEST_CASE(every_curl_example_of_the_document_runs_in_order) {
  Hub hub;
  const auto commands = documented_commands();
  BOOST_REQUIRE_GE(commands.size(), 15u);
  const std::string env = "cd '" + hub.dir.path() + "' && export PATH='" + kBin +
                          ":'\"$PATH\" HUB=http://127.0.0.1:" + std::to_string(hub.http_port) + " KEY='" + hub.key +
                          "' PKEY='" + hub.pkey + "' && ";
  std::vector<std::unique_ptr<Child>> streams;
  std::map<std::string, std::string> outputs;
  for (const auto& c : commands) {
    BOOST_TEST_MESSAGE("running: " << c);
    if (contains(c, "/events")) {  // stays open: read it while the rest runs
      streams.push_back(std::make_unique<Child>(std::vector<std::string>{"/bin/sh", "-c", env + "exec " + c}));
      wait_line(*streams.back(), ": subscribed");
      continue;
    }
    auto r = run_bounded({"/bin/sh", "-c", env + c}, 60);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, c << "\nexit " << r.exit_code << ": " << r.out << r.err);
    outputs[c] = r.out;
    if (contains(c, "/merge")) {
      BOOST_TEST(json::parse(r.out)["new_version"] == 1);
      // The streams, open since before the merge, tell of version 1 and who made it.
      BOOST_REQUIRE_EQUAL(streams.size(), 2u);
      for (auto& events : streams) {
        wait_line(*events, "event: version");
        const auto data = wait_line(*events, "data: ");
        const auto ev = json::parse(data.substr(data.find('{')));
        BOOST_TEST(ev["model"] == "fmnist");
        BOOST_TEST(ev["version"] == 1);
        BOOST_TEST(ev["contributions"][0]["participant"] == "org-1");
        BOOST_TEST(ev["contributions"][0]["staleness"] == 0);
      }
    }
  }
  BOOST_TEST(contains(outputs[commands[0]], "\"role\":\"manager\""), outputs[commands[0]]);
  BOOST_TEST(contains(outputs[commands[1]], "\"name\":\"fmnist\""));
  // The package over HTTP is byte for byte the package over CAF.
  expect_ok(run_bounded({kBin + "/fl-participant", "download", "--hub", hub.caf, "--key", hub.pkey, "--model", "fmnist",
                         "--version", "0", "--out", hub.dir / "caf.fhmp", "--quiet"}));
  const auto over_caf = read_text(hub.dir / "caf.fhmp");
  BOOST_TEST(read_text(hub.dir / "fmnist.fhmp") == over_caf);
  BOOST_TEST(read_text(hub.dir / "head.bin") == over_caf.substr(0, 64));
  const auto listing = std::find_if(commands.begin(), commands.end(), [](const auto& c) {
    return contains(c, "$HUB/api/v1/keys") && !contains(c, "-d ") && !contains(c, "DELETE");
  });
  BOOST_REQUIRE(listing != commands.end());
  const auto keys = json::parse(outputs[*listing]);
  bool revoked_listed = false;
  for (const auto& k : keys) revoked_listed |= k["name"] == "org-9";
  BOOST_TEST(revoked_listed);
  const auto metrics =
      std::find_if(commands.begin(), commands.end(), [](const auto& c) { return contains(c, "/metrics"); });
  BOOST_REQUIRE(metrics != commands.end());
  BOOST_TEST(contains(outputs[*metrics], "fedhub_contributions_accepted_total{model=\"fmnist\"} 1"));
  BOOST_TEST(contains(read_text(hub.dir / "dashboard.html"), "<script"));
  BOOST_TEST(contains(read_text(hub.dir / "chart.js"), "Chart.js v3"));
}

BOOST_AUTO_TEST_CASE(packages_serve_ranges_and_heads) {
  Hub hub;
  auto full = hub.call("GET", "/api/v1/models/fmnist/versions/current/package", hub.pkey);
  BOOST_REQUIRE(full.status == 200);
  BOOST_TEST(full.headers["x-fedhub-version"] == "0");
  BOOST_TEST(full.headers["accept-ranges"] == "bytes");
  BOOST_TEST(full.body.size() == std::stoull(full.headers["content-length"]));
  BOOST_TEST(full.body.substr(0, 4) == "FHFB");
  auto tail = roundtrip(hub.http_port,
                        "GET /api/v1/models/fmnist/versions/0/package HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\nAuthorization: Bearer " +
                            hub.pkey + "\r\nRange: bytes=-10\r\n\r\n");
  BOOST_TEST(tail.status == 206);
  BOOST_TEST(tail.body == full.body.substr(full.body.size() - 10));
  BOOST_TEST(tail.headers["content-range"] == "bytes " + std::to_string(full.body.size() - 10) + "-" +
                                                  std::to_string(full.body.size() - 1) + "/" +
                                                  std::to_string(full.body.size()));
  auto past = roundtrip(hub.http_port,
                        "GET /api/v1/models/fmnist/versions/0/package HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\nAuthorization: Bearer " +
                            hub.pkey + "\r\nRange: bytes=99999999-\r\n\r\n");
  BOOST_TEST(past.status == 416);
  BOOST_TEST(past.headers["content-range"] == "bytes */" + std::to_string(full.body.size()));
  auto head = hub.call("HEAD", "/api/v1/models/fmnist/versions/0/package", hub.pkey);
  BOOST_TEST(head.status == 200);
  BOOST_TEST(head.headers["content-length"] == std::to_string(full.body.size()));
  expect_error(hub.call("GET", "/api/v1/models/fmnist/versions/7/package", hub.pkey), 404, "unknown_version");
  expect_error(hub.call("GET", "/api/v1/models/fmnist/versions/latest/package", hub.pkey), 400, "bad_request");
  expect_error(hub.call("GET", "/api/v1/models/nothing/versions/0/package", hub.pkey), 404, "unknown_model");
}

BOOST_AUTO_TEST_CASE(bad_input_gets_its_status_and_stores_nothing) {
  Hub hub;
  const auto good = read_text(hub.trained(hub.pkey, "org-1"));
  const std::string path = "/api/v1/models/fmnist/contributions";
  const std::string type = "application/vnd.fedhub.contribution";
  // Garbage, a truncated body, a damaged data section, a wrong model.
  expect_error(hub.call("POST", path, hub.pkey, type, std::string(1000, 'x')), 400, "bad_request");
  {
    const int fd = connect_to(hub.http_port);
    auto head = request("POST", path, hub.pkey, type, "", false);
    head.insert(head.size() - 2, "Content-Length: " + std::to_string(good.size()) + "\r\n");
    send_all(fd, head + good.substr(0, good.size() / 2));
    ::shutdown(fd, SHUT_WR);
    expect_error(read_reply(fd), 400, "bad_request", "the body ended");
    ::close(fd);
  }
  auto damaged = good;
  damaged[damaged.size() - 3] ^= 0x40;
  expect_error(hub.call("POST", path, hub.pkey, type, damaged), 422, "bad_checksum");
  expect_error(hub.call("POST", "/api/v1/models/other/contributions", hub.pkey, type, good), 404, "unknown_model");
  // Refused from the headers: a wrong type, no length, too large (before any body byte).
  expect_error(hub.call("POST", path, hub.pkey, "text/plain", good), 415, "unsupported_media_type");
  expect_error(
      roundtrip(hub.http_port, "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
                                   hub.pkey + "\r\nContent-Type: " + type +
                                   "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      411, "length_required");
  {
    const int fd = connect_to(hub.http_port);
    auto head = request("POST", path, hub.pkey, type, "", false);
    head.insert(head.size() - 2, "Content-Length: 4000000000\r\n");
    send_all(fd, head);
    expect_error(read_reply(fd), 413, "payload_too_large", "4000000000");
    ::close(fd);
  }
  BOOST_TEST(hub.status()["contributions"].size() == 0u);  // nothing of all that was stored
  // Keys: none, wrong, a participant's where a manager's is needed, revoked.
  expect_error(hub.call("GET", "/api/v1/models"), 401, "unauthorized", "Authorization: Bearer KEY");
  expect_error(hub.call("GET", "/api/v1/models", "fhk_wrong"), 401, "unauthorized");
  expect_error(hub.call("POST", "/api/v1/models/fmnist/merge", hub.pkey, "application/json", R"({"base":0})"), 403,
               "forbidden");
  const auto other = hub.add_key("org-2");
  expect_ok(hub.manager({"keys", "revoke", "org-2"}));
  expect_error(hub.call("POST", path, other, type, good), 401, "unauthorized");
  // The good one is taken once; the second is a duplicate.
  auto ok = hub.call("POST", path, hub.pkey, type, good);
  BOOST_TEST(ok.status == 201, ok.body);
  BOOST_TEST(json::parse(ok.body)["participant"] == "org-1");
  expect_error(hub.call("POST", path, hub.pkey, "application/octet-stream", good), 409, "duplicate");
  // Merge bodies.
  const std::string merge = "/api/v1/models/fmnist/merge";
  expect_error(hub.call("POST", merge, hub.key, "application/json", "{base"), 400, "bad_request");
  expect_error(hub.call("POST", merge, hub.key, "application/json", R"({"base":-1})"), 400, "bad_request");
  expect_error(hub.call("POST", merge, hub.key, "application/json", std::string(70000, ' ')), 413, "payload_too_large");
  expect_error(hub.call("POST", merge, hub.key, "application/json", R"({"base":3})"), 404, "unknown_version");
  // Routes, methods, path tricks.
  expect_error(hub.call("GET", "/api/v1/nothing", hub.key), 404, "not_found");
  auto wrong_method = hub.call("PUT", "/api/v1/models/fmnist", hub.key);
  expect_error(wrong_method, 405, "method_not_allowed");
  BOOST_TEST(wrong_method.headers["allow"] == "GET, HEAD");
  for (const char* trick : {"/static/..%2F..%2Fetc%2Fpasswd", "/static/../../etc/passwd", "/static/%2e%2e",
                            "/static/index.html%00", "/static//index.html", "/static/..%5Cx"})
    expect_error(hub.call("GET", trick), 400, "bad_request", "request path");
  expect_error(hub.call("GET", "/static/passwd"), 404, "not_found");
  expect_error(roundtrip(hub.http_port, "HELLO\r\n\r\n"), 400, "bad_request");
  BOOST_TEST(hub.status()["contributions"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(slow_clients_and_too_many_connections_are_bounded) {
  Hub hub(json{{"http_head_timeout_ms", 600}, {"http_io_timeout_ms", 600}, {"http_max_connections", 4}});
  // A head that never ends, a body that stalls: 408 at the deadline.
  auto started = std::chrono::steady_clock::now();
  {
    const int fd = connect_to(hub.http_port);
    send_all(fd, "GET /api/v1/mod");
    expect_error(read_reply(fd), 408, "request_timeout");
    ::close(fd);
  }
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
  {
    const int fd = connect_to(hub.http_port);
    auto head = request("POST", "/api/v1/models/fmnist/contributions", hub.pkey, "application/vnd.fedhub.contribution",
                        "", false);
    head.insert(head.size() - 2, "Content-Length: 200000\r\n");
    send_all(fd, head + "FHFB");
    expect_error(read_reply(fd), 408, "request_timeout");
    ::close(fd);
  }
  // Four idle connections fill the door; the next is told so and closed.
  std::vector<int> idle;
  bool refused = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    const int fd = connect_to(hub.http_port, 300ms);
    send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = read_reply(fd);
    if (r.status == 503) {
      expect_error(r, 503, "too_many_connections");
      refused = true;
      ::close(fd);
    } else {
      BOOST_REQUIRE(r.status == 200);
      idle.push_back(fd);  // kept alive: it stays open (until the head timeout)
    }
  }
  BOOST_TEST(refused);
  BOOST_TEST(idle.size() <= 4u);
  for (int fd : idle) ::close(fd);
  // Once they are gone, the door takes requests again.
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < deadline + 10s)
    served = hub.call("GET", "/metrics").status == 200;
  BOOST_TEST(served);
}

BOOST_AUTO_TEST_CASE(metrics_parse_and_count_both_doors) {
  Hub hub;
  const auto second = hub.add_key("org-2");
  // One contribution over CAF, one over HTTP, one refusal, one merge.
  expect_ok(run_bounded({kBin + "/fl-participant", "upload", "--hub", hub.caf, "--key", hub.pkey, "--weights",
                         hub.trained(hub.pkey, "org-1"), "--quiet"}));
  const auto file = read_text(hub.trained(second, "org-2"));
  BOOST_TEST(
      hub.call("POST", "/api/v1/models/fmnist/contributions", second, "application/vnd.fedhub.contribution", file)
          .status == 201);
  expect_error(
      hub.call("POST", "/api/v1/models/fmnist/contributions", second, "application/vnd.fedhub.contribution", file), 409,
      "duplicate");
  BOOST_TEST(hub.call("POST", "/api/v1/models/fmnist/merge", hub.key, "application/json", R"({"base":0})").status ==
             200);
  auto r = hub.call("GET", "/metrics");
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(contains(r.headers["content-type"], "text/plain; version=0.0.4"));
  // Every line is a comment or `name{labels} value` (Prometheus text format 0.0.4).
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$)");
  std::map<std::string, double> values;
  std::istringstream text(r.body);
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    BOOST_TEST(std::regex_match(line, sample), "not a sample line: " << line);
    const auto space = line.rfind(' ');
    values[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  BOOST_TEST(values["fedhub_contributions_accepted_total{model=\"fmnist\"}"] == 2);
  BOOST_TEST(values["fedhub_contributions_rejected_total{model=\"fmnist\",reason=\"duplicate\"}"] == 1);
  BOOST_TEST(values["fedhub_merges_total{model=\"fmnist\"}"] == 1);
  BOOST_TEST(values["fedhub_merge_duration_seconds_count"] == 1);
  BOOST_TEST(values["fedhub_merge_duration_seconds_bucket{le=\"+Inf\"}"] == 1);
  BOOST_TEST(values["fedhub_connected_participants{door=\"caf\"}"] >= 1);
  BOOST_TEST(values["fedhub_connected_participants{door=\"http\"}"] >= 1);
  BOOST_TEST(values["fedhub_store_write_seconds_count"] > 0);
  BOOST_TEST(values["fedhub_payload_bytes_total{direction=\"in\"}"] > 0);
  BOOST_TEST(values["fedhub_http_bytes_total{direction=\"in\"}"] >= static_cast<double>(file.size()));
  BOOST_TEST(values["fedhub_http_connections"] >= 1);
}

BOOST_AUTO_TEST_SUITE_END()
