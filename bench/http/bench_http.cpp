// bench-http: download and upload throughput of the HTTP door against the
// CAF door of the same fl-hub process, in the same run (issue 9). A real
// fl-hub with --http-port; this program is the client of both doors over
// loopback: HubClient (CAF remoting, the way fl-participant transfers) and a
// plain HTTP/1.1 client on a socket (GET .../package, POST .../contributions
// with the contribution file as the body). Runs alternate between the doors,
// each transfer repeated `reps` times; the best of each counts. Every
// download is checked byte for byte against the other door's, and every
// upload is a durable, acknowledged contribution (a fresh participant key
// each, so none is a duplicate).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench/transfer/bench_models.hpp"
#include "bench/transfer/bench_support.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"

using namespace fedhub;
using namespace fedhub::bench;
namespace po = boost::program_options;

namespace {

const char* kUsage =
    "Usage: bench-http [--params N] [--reps R] [--dir DIR]\n"
    "\n"
    "Downloads a model of N float parameters (default 25M: 100 MB) and uploads\n"
    "contributions to it through both doors of one real fl-hub process on loopback: CAF\n"
    "remoting (HubClient, as fl-participant) and the HTTP API (a plain HTTP/1.1 client),\n"
    "alternating, R times each (default 3), best of each. Data directory under DIR\n"
    "(default /tmp). The last line is\n"
    "  bench-http: download_ratio D upload_ratio U    (HTTP MB/s over CAF MB/s)\n";

double mb_s(uint64_t bytes, double seconds) { return static_cast<double>(bytes) / 1e6 / seconds; }

int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("cannot connect to the HTTP door on port " + std::to_string(port));
  return fd;
}

void send_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const auto k = ::send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0) throw std::runtime_error("the HTTP door closed the connection while the body was sent");
    data += k;
    n -= static_cast<size_t>(k);
  }
}

struct Response {
  int status = 0;
  std::string head;
  Buffer body;
};

// Reads a response with a Content-Length body into one allocation of that size.
Response read_response(int fd) {
  std::string in;
  char buf[1 << 16];
  size_t end = std::string::npos;
  while ((end = in.find("\r\n\r\n")) == std::string::npos) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) throw std::runtime_error("the HTTP door closed the connection before its answer");
    in.append(buf, static_cast<size_t>(n));
  }
  Response r;
  r.head = in.substr(0, end);
  r.status = std::stoi(r.head.substr(9, 3));
  const auto at = r.head.find("Content-Length: ");
  if (at == std::string::npos) throw std::runtime_error("an answer without Content-Length: " + r.head);
  const uint64_t length = std::stoull(r.head.substr(at + 16));
  r.body.resize(length);
  const auto already = std::min<uint64_t>(length, in.size() - end - 4);
  std::memcpy(r.body.data(), in.data() + end + 4, already);
  uint64_t got = already;
  while (got < length) {
    const auto n = ::recv(fd, r.body.data() + got, length - got, 0);
    if (n <= 0) throw std::runtime_error("the HTTP door closed the connection inside the body");
    got += static_cast<uint64_t>(n);
  }
  return r;
}

Buffer http_download(uint16_t port, const std::string& key, const std::string& model) {
  const int fd = connect_loopback(port);
  const std::string req = "GET /api/v1/models/" + model +
                          "/versions/current/package HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                          "Authorization: Bearer " +
                          key + "\r\n\r\n";
  send_all(fd, req.data(), req.size());
  auto r = read_response(fd);
  ::close(fd);
  if (r.status != 200)
    throw std::runtime_error("HTTP download: status " + std::to_string(r.status) + ": " +
                             std::string(r.body.begin(), r.body.end()));
  return std::move(r.body);
}

void http_upload(uint16_t port, const std::string& key, const std::string& model, const Buffer& file) {
  const int fd = connect_loopback(port);
  const std::string req =
      "POST /api/v1/models/" + model +
      "/contributions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      "Authorization: Bearer " +
      key + "\r\nContent-Type: application/vnd.fedhub.contribution\r\nContent-Length: " + std::to_string(file.size()) +
      "\r\n\r\n";
  send_all(fd, req.data(), req.size());
  for (size_t at = 0; at < file.size(); at += 1 << 20)
    send_all(fd, file.data() + at, std::min<size_t>(1 << 20, file.size() - at));
  auto r = read_response(fd);
  ::close(fd);
  if (r.status != 201)
    throw std::runtime_error("HTTP upload: status " + std::to_string(r.status) + ": " +
                             std::string(r.body.begin(), r.body.end()));
}

// The HTTP port from the hub's log ("HTTP API and dashboard on http://127.0.0.1:P/").
uint16_t http_port_of(const std::string& log) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) {
      const auto at = line.find("dashboard on http://");
      if (at != std::string::npos) return static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the log, bounded by the deadline
  }
  throw std::runtime_error("fl-hub did not print its HTTP address; its log: " + log);
}

std::string new_participant(HubClient& manager, const std::string& name) {
  Buffer holder;
  return manager.call_as<fb::KeyCreated>(requests::add_key(manager.key(), name, fb::Role::participant), holder)
      ->key()
      ->str();
}

int bench_main(int argc, char** argv) {
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("params", po::value<std::string>()->default_value("25M"),
                                                 "float parameters of the model")(
      "reps", po::value<int>()->default_value(3), "transfers per door and direction")(
      "dir", po::value<std::string>()->default_value("/tmp"), "where the hub's data directory goes");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts;
    return 0;
  }
  const uint64_t params = parse_count(vm["params"].as<std::string>());
  const int reps = std::max(1, vm["reps"].as<int>());
  install_cleanup();
  TempDir dir(vm["dir"].as<std::string>(), "fedhub-bench-http-");
  const std::string log = dir.path() + "/hub.log";
  HubProcess hub(sibling_program("fl-hub"), dir.path() + "/data", log, {"--http-port", "0"});
  const uint16_t http = http_port_of(log);
  progress("hub on CAF port %u, HTTP port %u; model of %s parameters (%.0f MB)\n", hub.port(), http,
           count_name(params).c_str(), static_cast<double>(params) * 4 / 1e6);

  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  HubClient manager(system, "127.0.0.1", hub.port(), hub.manager_key(), std::chrono::minutes(10));
  create_dense_model(manager, "bench", params);
  const std::string reader_key = new_participant(manager, "reader");
  HubClient reader(system, "127.0.0.1", hub.port(), reader_key, std::chrono::minutes(10));

  double caf_down = 0, http_down = 0, caf_up = 0, http_up = 0;
  uint64_t package_bytes = 0, file_bytes = 0;
  Buffer file = random_contribution("bench", 0, params, 7);
  file_bytes = file.size();
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    const Buffer over_caf = reader.download_package("bench", -1);
    const double caf_s = seconds_since(t0);
    t0 = Clock::now();
    const Buffer over_http = http_download(http, reader_key, "bench");
    const double http_s = seconds_since(t0);
    if (over_caf != over_http) throw std::runtime_error("the two doors sent different packages");
    package_bytes = over_caf.size();
    caf_down = std::max(caf_down, mb_s(package_bytes, caf_s));
    http_down = std::max(http_down, mb_s(package_bytes, http_s));
    progress("download %d: CAF %.0f MB/s, HTTP %.0f MB/s\n", i + 1, mb_s(package_bytes, caf_s),
             mb_s(package_bytes, http_s));
  }
  for (int i = 0; i < reps; ++i) {
    HubClient caf_participant(system, "127.0.0.1", hub.port(), new_participant(manager, "caf-" + std::to_string(i)),
                              std::chrono::minutes(10));
    auto t0 = Clock::now();
    caf_participant.upload(file);
    const double caf_s = seconds_since(t0);
    const auto http_key = new_participant(manager, "http-" + std::to_string(i));
    t0 = Clock::now();
    http_upload(http, http_key, "bench", file);
    const double http_s = seconds_since(t0);
    caf_up = std::max(caf_up, mb_s(file_bytes, caf_s));
    http_up = std::max(http_up, mb_s(file_bytes, http_s));
    progress("upload %d: CAF %.0f MB/s, HTTP %.0f MB/s (durable)\n", i + 1, mb_s(file_bytes, caf_s),
             mb_s(file_bytes, http_s));
  }
  Buffer holder;
  const auto* st = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), "bench", 0), holder);
  if (st->contributions()->size() != static_cast<uint32_t>(2 * reps))
    throw std::runtime_error("the hub holds " + std::to_string(st->contributions()->size()) + " contributions, not " +
                             std::to_string(2 * reps));
  hub.stop();
  std::printf("download: CAF %.0f MB/s, HTTP %.0f MB/s (package %.1f MB, best of %d)\n", caf_down, http_down,
              static_cast<double>(package_bytes) / 1e6, reps);
  std::printf("upload:   CAF %.0f MB/s, HTTP %.0f MB/s (contribution %.1f MB, durable, best of %d)\n", caf_up, http_up,
              static_cast<double>(file_bytes) / 1e6, reps);
  std::printf("load average: %s\n", load_average().c_str());
  std::printf("bench-http: download_ratio %.2f upload_ratio %.2f\n", http_down / caf_down, http_up / caf_up);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const RequestError& e) {
    std::fprintf(stderr, "bench-http: %s\n", e.describe().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-http: %s\n", e.what());
  }
  return 1;
}
