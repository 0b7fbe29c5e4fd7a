// fedhub-load-soak (issue 10, item 6): a real fl-hub holding 200 uploading
// and 10 downloading participants for a bounded time (default 10 minutes),
// its resident memory and open file descriptors sampled from /proc/PID
// every second.
//
//   fedhub-load-soak [--seconds S] [--uploaders N] [--downloaders M] [--processes P] [--params N]
//                    [--k K] [--pause-ms MS] [--download-pause-ms MS] [--warmup S] [--csv FILE]
//
// Setup: a fresh data directory; two dense models (load-0, load-1) of N =
// 20,000 parameters under buffered merges of K = 100 with FedBuff staleness
// (max 4), so that versions keep coming; N uploaders spread over P driver
// processes (fedhub-soak-driver upload, default 4 of 50) and M downloaders
// in one more (fedhub-soak-driver download). Every client has a connection
// of its own (an actor system of its own), so the hub holds N + M + 1
// connections. An uploader uploads a contribution to each new version of
// the models in turn, about one per --pause-ms (default 1000, randomised
// +-50%), and fsyncs every receipt to its driver's log; a downloader
// downloads the current version of the models in turn and checks its hash,
// about one per --download-pause-ms (default 200).
//
// Every second: the hub's VmRSS, its entries in /proc/PID/fd and its threads
// go into the CSV (t_s,rss_mb,fds,threads). RSS growth compares the mean of
// the 10 samples after the warm-up (--warmup, default min(120, S/5)) with the
// mean of the last 10 samples of the run. At the end every acknowledged
// contribution must be listed by the hub's status for its base version.
// Last line:
//   soak: seconds S uploads U downloads D rss_start_mb A rss_end_mb B growth_pct G fds_max F lost L
// Exit 1 when G > 5 or L > 0.
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <caf/actor_system.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "client/hub_client.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "integration/process.hpp"
#include "messages/errors.hpp"
#include "soak/soak_support.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub;
using namespace fedhub::soak;
using fedhub::testing::Child;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  double seconds = 600;
  int uploaders = 200;
  int downloaders = 10;
  int processes = 4;
  uint64_t params = 20000;
  int k = 100;
  int pause_ms = 1000;
  int download_pause_ms = 200;
  double warmup = -1;
  std::string csv = "soak-load.csv";
};

// A child process whose output is drained by a thread once it is ready.
struct Proc {
  std::unique_ptr<Child> child;
  std::thread drain;
  std::string out;
  std::atomic<bool> ended{false};

  void start(const std::vector<std::string>& argv, const std::string& ready, int seconds) {
    child = std::make_unique<Child>(argv);
    out = fedhub::testing::wait_line(*child, ready, std::chrono::seconds(seconds)) + "\n";
    drain = std::thread([this] {
      out += child->read_rest();
      ended = true;
    });
  }
  int stop(int sig, std::chrono::seconds limit = std::chrono::seconds(60)) {
    child->signal(sig);
    const int code = child->wait_at_most(limit);
    if (drain.joinable()) drain.join();
    return code;
  }
  std::string line(const std::string& prefix) const {
    const auto at = out.rfind(prefix);
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  }
  ~Proc() {
    if (child) child->signal(SIGKILL);
    if (drain.joinable()) drain.join();
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

int run(const Options& o) {
  const std::string bin = program_dir();
  fedhub::testing::TempDir tmp;
  const std::string run = tmp.path();
  const std::string data = run + "/data";
  const uint16_t port = fedhub::testing::free_port();
  write_file(run + "/hub.json",
             "{\"port\": " + std::to_string(port) + ", \"data_dir\": \"" + data + "\", \"threads\": 2}\n");
  const double warmup = o.warmup >= 0 ? o.warmup : std::min(120.0, o.seconds / 5);
  std::printf(
      "soak: %d uploaders in %d processes and %d downloaders, each a connection of its own; 2 models of %llu "
      "parameters, buffered k=%d; %.0f s, warm-up %.0f s; CSV %s\n",
      o.uploaders, o.processes, o.downloaders, static_cast<unsigned long long>(o.params), o.k, o.seconds, warmup,
      o.csv.c_str());
  std::fflush(stdout);

  Proc hub;
  hub.start({bin + "/fl-hub", "--config", run + "/hub.json"}, "listening on", 120);
  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  HubClient manager(system, "127.0.0.1", port, read_text(data + "/manager.key"), std::chrono::seconds(120));
  const std::vector<std::string> models = {"load-0", "load-1"};
  for (const auto& m : models)
    create_dense_model(
        manager, m, o.params,
        R"({"merge":"buffered","k":)" + std::to_string(o.k) + R"(,"staleness":{"kind":"fedbuff","max_staleness":4}})");
  auto add_key = [&](const std::string& name) {
    Buffer holder;
    return manager.call_as<fb::KeyCreated>(requests::add_key(manager.key(), name, fb::Role::participant), holder)
        ->key()
        ->str();
  };
  std::vector<std::unique_ptr<Proc>> drivers;
  std::vector<std::string> logs;
  const std::string secs = std::to_string(o.seconds);
  for (int p = 0; p < o.processes; ++p) {
    const int first = p * o.uploaders / o.processes, end = (p + 1) * o.uploaders / o.processes;
    std::vector<std::pair<std::string, std::string>> keys;
    for (int i = first; i < end; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "u%03d", i);
      keys.emplace_back(name, add_key(name));
    }
    const std::string kf = run + "/keys-u" + std::to_string(p);
    write_keys(kf, keys);
    logs.push_back(run + "/uploads-" + std::to_string(p) + ".log");
    drivers.push_back(std::make_unique<Proc>());
    drivers.back()->start({bin + "/fedhub-soak-driver",
                           "upload",
                           "--port",
                           std::to_string(port),
                           "--keys",
                           kf,
                           "--models",
                           "load-0,load-1",
                           "--params",
                           std::to_string(o.params),
                           "--log",
                           logs.back(),
                           "--index",
                           std::to_string(first),
                           "--pause-ms",
                           std::to_string(o.pause_ms),
                           "--seconds",
                           secs,
                           "--seed",
                           std::to_string(p + 1)},
                          "driver: started", 120);
  }
  std::vector<std::pair<std::string, std::string>> dkeys;
  for (int i = 0; i < o.downloaders; ++i) {
    std::string name = "d";  // (not "d" + to_string: GCC 12's false -Wrestrict)
    name += std::to_string(i);
    dkeys.emplace_back(name, add_key(name));
  }
  write_keys(run + "/keys-d", dkeys);
  auto downloader = std::make_unique<Proc>();
  if (o.downloaders > 0)
    downloader->start({bin + "/fedhub-soak-driver", "download", "--port", std::to_string(port), "--keys",
                       run + "/keys-d", "--models", "load-0,load-1", "--log", run + "/downloads.log", "--pause-ms",
                       std::to_string(o.download_pause_ms), "--seconds", secs},
                      "driver: started", 120);

  // Sampling, once a second, until every driver has ended.
  std::ofstream csv(o.csv, std::ios::trunc);
  csv << "t_s,rss_mb,fds,threads\n";
  const auto t0 = Clock::now();
  std::vector<std::pair<double, ProcSample>> samples;
  auto all_ended = [&] {
    for (const auto& d : drivers)
      if (!d->ended) return false;
    return o.downloaders == 0 || downloader->ended.load();
  };
  for (int tick = 0;; ++tick) {
    std::this_thread::sleep_until(t0 + std::chrono::seconds(tick));  // the sampling period
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto s = sample_process(hub.child->pid());
    if (s.rss_mb < 0) throw std::runtime_error("the hub is gone:\n" + hub.out);
    samples.emplace_back(t, s);
    csv << tick << "," << s.rss_mb << "," << s.fds << "," << s.threads << "\n";
    csv.flush();
    if (tick % 60 == 0) {
      std::printf("soak: t %d s rss %.1f MB fds %d threads %d\n", tick, s.rss_mb, s.fds, s.threads);
      std::fflush(stdout);
    }
    if (all_ended()) break;
    if (t > o.seconds + 300) throw std::runtime_error("the drivers did not end 300 s after the run");
  }
  uint64_t downloads = 0;
  for (auto& d : drivers) {
    const int code = d->stop(SIGTERM);
    std::printf("uploaders: %s (exit %d)\n", d->line("driver: done").c_str(), code);
    if (code != 0) std::printf("%s\n", d->out.c_str());
  }
  if (o.downloaders > 0) {
    const int code = downloader->stop(SIGTERM);
    const auto done = downloader->line("driver: done");
    std::printf("downloaders: %s (exit %d)\n", done.c_str(), code);
    const auto w = words(done);
    for (size_t i = 0; i + 1 < w.size(); ++i)
      if (w[i] == "downloads") downloads = std::stoull(w[i + 1]);
    if (code != 0) std::printf("%s\n", downloader->out.c_str());
  }

  // Nothing acknowledged is lost.
  std::set<ContributionKey> acked, listed;
  uint64_t twice = 0;
  for (const auto& f : logs)
    for (const auto& e : read_log(f))
      if (e.kind == "ack" && !acked.emplace(e.model, e.base, e.participant).second) ++twice;
  std::map<std::string, uint64_t> reached;
  for (const auto& m : models) {
    Buffer holder;
    const auto* st = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), m, -1), holder);
    const uint64_t current = st->summary()->current_version();
    reached[m] = current;
    for (uint64_t b = 0; b <= current; ++b) {
      Buffer h;
      const auto* s = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), m, static_cast<int64_t>(b)), h);
      for (const auto* c : *s->contributions()) listed.emplace(m, b, c->participant()->str());
    }
  }
  uint64_t lost = 0;
  for (const auto& k : acked)
    if (!listed.count(k)) {
      if (++lost <= 5)
        std::printf("lost: %s base %llu from %s\n", std::get<0>(k).c_str(),
                    static_cast<unsigned long long>(std::get<1>(k)), std::get<2>(k).c_str());
    }
  lost += twice;

  // Memory and descriptors after the warm-up.
  std::vector<double> start_rss, end_rss;
  int fds_max = 0, fds_after_warmup = -1, threads_max = 0;
  double rss_max = 0;
  const double run_end = std::min(o.seconds, samples.back().first);
  for (const auto& [t, s] : samples) {
    fds_max = std::max(fds_max, s.fds);
    threads_max = std::max(threads_max, s.threads);
    if (t >= warmup && start_rss.size() < 10) {
      start_rss.push_back(s.rss_mb);
      if (fds_after_warmup < 0) fds_after_warmup = s.fds;
    }
    if (t >= warmup) rss_max = std::max(rss_max, s.rss_mb);
  }
  for (auto it = samples.rbegin(); it != samples.rend() && end_rss.size() < 10; ++it)
    if (it->first <= run_end) end_rss.push_back(it->second.rss_mb);
  const double a = mean(start_rss), b = mean(end_rss);
  const double growth = a > 0 ? (b - a) / a * 100 : 0;
  std::printf(
      "soak: versions load-0 %llu load-1 %llu; acknowledged %zu, listed %zu; rss after warm-up %.1f MB, at the "
      "end %.1f MB, highest after warm-up %.1f MB; fds after warm-up %d, highest %d; threads highest %d\n",
      static_cast<unsigned long long>(reached["load-0"]), static_cast<unsigned long long>(reached["load-1"]),
      acked.size(), listed.size(), a, b, rss_max, fds_after_warmup, fds_max, threads_max);
  const int hub_code = hub.stop(SIGTERM, std::chrono::seconds(120));
  if (hub_code != 0) std::printf("fl-hub ended with %d:\n%s\n", hub_code, hub.out.c_str());
  std::printf(
      "soak: seconds %.0f uploads %zu downloads %llu rss_start_mb %.1f rss_end_mb %.1f growth_pct %.2f "
      "fds_max %d lost %llu\n",
      o.seconds, acked.size(), static_cast<unsigned long long>(downloads), a, b, growth, fds_max,
      static_cast<unsigned long long>(lost));
  std::fflush(stdout);
  return growth <= 5.0 && lost == 0 && hub_code == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::printf(
            "Usage: fedhub-load-soak [--seconds S] [--uploaders N] [--downloaders M] [--processes P] "
            "[--params N] [--k K] [--pause-ms MS] [--download-pause-ms MS] [--warmup S] [--csv FILE]\n"
            "(tests/soak/load_soak.cpp describes the run)\n");
        return 0;
      }
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--seconds")
        o.seconds = std::stod(v);
      else if (a == "--uploaders")
        o.uploaders = std::stoi(v);
      else if (a == "--downloaders")
        o.downloaders = std::stoi(v);
      else if (a == "--processes")
        o.processes = std::stoi(v);
      else if (a == "--params")
        o.params = std::stoull(v);
      else if (a == "--k")
        o.k = std::stoi(v);
      else if (a == "--pause-ms")
        o.pause_ms = std::stoi(v);
      else if (a == "--download-pause-ms")
        o.download_pause_ms = std::stoi(v);
      else if (a == "--warmup")
        o.warmup = std::stod(v);
      else if (a == "--csv")
        o.csv = v;
      else
        throw std::invalid_argument("unknown option " + a);
    }
    if (!(o.seconds > 0) || o.uploaders < 1 || o.processes < 1 || o.processes > o.uploaders || o.downloaders < 0)
      throw std::invalid_argument("bad counts");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fedhub-load-soak: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const RequestError& e) {
    std::printf("soak: error: %s\n", e.describe().c_str());
  } catch (const std::exception& e) {
    std::printf("soak: error: %s\n", e.what());
  }
  return 1;
}
