// bench-load: many participants uploading small contributions at once, and
// whether every acknowledged contribution is in the hub's state afterwards.
//
//   1. Limit: the disk's synced-write rate in the data directory's
//      filesystem (a 4 KiB pwrite + fdatasync in a loop for 2 s, overwriting
//      one block and appending; again for 1 s each after the run, as other
//      work on the machine moves it a lot; the best of the four rates is F).
//   2. A real fl-hub process on a fresh data directory with --models models
//      of --params parameters (a dense layer, created by the manager), each
//      with the policy {"merge":"buffered","k":K,"staleness":{"kind":"fedbuff",
//      "max_staleness":4}} so that versions keep moving, and one participant
//      key per connection.
//   3. --connections participants spread over --processes child processes
//      (this program again, `--participant`): each connection is a thread
//      with its own HubClient. A participant takes the current version of a
//      model (a per-process subscriber keeps the table of current versions;
//      after `stale` the participant asks itself with a 1-byte Download),
//      uploads a random contribution for it unless it contributed to that
//      version already (the paper's rule: once per base version), then
//      moves to the next model; with nothing new it waits for a version.
//      Each upload (HubClient::upload: begin, parts, commit answered once
//      durable) is timed; uploads start for --seconds.
//   4. After the run, for each model: what is pending is merged, then every
//      version's contributions are listed through Status and compared with
//      the (model, participant, base) triples acknowledged to the children.
//
// Last line: "bench-load: contributions_per_s C fsyncs_per_s F p99_ms L lost N".
// Goals: C >= 2 x F (group commit: the journal writes every acceptance that
// queued during one fsync in the next write), N = 0 (printed, never
// asserted).
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <caf/actor_system.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/transfer/bench_models.hpp"
#include "bench/transfer/bench_support.hpp"
#include "client/hub_client.hpp"
#include "client/requests.hpp"
#include "client/system_config.hpp"
#include "messages/contribution.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"

using namespace fedhub;
using namespace fedhub::bench;

namespace {

const std::chrono::seconds kRequestTimeout(60);

const char* kUsage =
    "Usage: bench-load [--seconds S] [--connections N] [--processes P] [--models M]\n"
    "                  [--params N] [--k K] [--dir DIR]\n"
    "\n"
    "Runs a real fl-hub (data directory under DIR, default /tmp) with M models (default\n"
    "4) of N parameters (default 10k) under buffered merges of K (default 50) with\n"
    "FedBuff staleness (max 4), and N connections (default 200) spread over P\n"
    "participant processes (default 4), each connection a thread uploading small\n"
    "contributions for S seconds (default 10). Compares the acknowledged contributions\n"
    "per second with the disk's synced writes per second measured in DIR's\n"
    "filesystem, and checks that every acknowledged contribution is in the hub's\n"
    "state at the end. Progress on stderr; the last line is\n"
    "  bench-load: contributions_per_s C fsyncs_per_s F p99_ms L lost N\n";

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

double cpu_seconds(int who) {
  struct rusage ru {};
  getrusage(who, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The current version of a model: the version of a 1-byte download.
uint64_t current_version(HubClient& client, const std::string& model) {
  Buffer holder;
  return client.call_as<fb::DownloadChunk>(requests::download(client.key(), model, -1, 0, 1), holder)->version();
}

// ---------------------------------------------------------------- participant process

// The current version of every model, as this process knows it.
struct VersionTable {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<uint64_t> current;
  uint64_t changes = 0;

  void raise(size_t model, uint64_t version) {
    std::lock_guard lock(mutex);
    if (version <= current[model]) return;
    current[model] = version;
    ++changes;
    changed.notify_all();
  }
};

struct Ack {
  size_t model;
  std::string participant;
  uint64_t base;
};

struct ConnectionResult {
  std::vector<Ack> acks;
  std::vector<uint32_t> latency_us;
  uint64_t stale = 0, duplicate = 0, waits = 0;
  std::map<std::string, std::pair<uint64_t, std::string>> errors;  // code -> count, first message
  std::string fatal;
};

void report(const std::string& line) { std::printf("@@ %s\n", line.c_str()); }

// One participant connection: uploads until the deadline.
void participant_loop(HubClient& client, const std::vector<std::string>& models, uint64_t params, size_t index,
                      VersionTable& table, Clock::time_point deadline, ConnectionResult& out) {
  const size_t m_count = models.size();
  std::vector<uint64_t> last(m_count, UINT64_MAX);  // the base each model was last contributed to
  size_t pos = index % m_count;
  uint64_t seq = 0;
  while (Clock::now() < deadline) {
    size_t m = m_count;
    uint64_t v = 0, seen = 0;
    {
      std::unique_lock lock(table.mutex);
      for (size_t j = 0; j < m_count; ++j) {
        const size_t c = (pos + j) % m_count;
        if (last[c] != table.current[c]) {
          m = c;
          v = table.current[c];
          break;
        }
      }
      seen = table.changes;
      if (m == m_count) {
        // Contributed to every model's current version: wait for a new one.
        ++out.waits;
        table.changed.wait_for(lock, std::chrono::milliseconds(50), [&] { return table.changes != seen; });
        continue;
      }
    }
    pos = (m + 1) % m_count;
    const Buffer file = random_contribution(models[m], v, params, index * 1000003 + ++seq);
    const auto t0 = Clock::now();
    try {
      const auto receipt = client.upload(file);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      out.latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
      out.acks.push_back({m, receipt.participant, receipt.base_version});
      last[m] = v;
    } catch (const RequestError& e) {
      if (e.code() == ErrorCode::stale) {
        ++out.stale;
        last[m] = v;
        table.raise(m, current_version(client, models[m]));
      } else if (e.code() == ErrorCode::duplicate) {
        ++out.duplicate;
        last[m] = v;
      } else {
        auto& [count, first] = out.errors[error_name(e.code())];
        if (count++ == 0) first = e.what();
        if (e.code() == ErrorCode::unavailable) throw;  // the hub is gone
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
}

// `bench-load --participant --port P --models a,b,c --params N --seconds S`;
// stdin: one "key NAME KEY" line per connection, "end", then later "go".
int participant_main(int argc, char** argv) {
  uint16_t port = 0;
  std::vector<std::string> models;
  uint64_t params = 0;
  double seconds = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--port") port = static_cast<uint16_t>(std::stoi(argv[i + 1]));
    if (a == "--models") models = split(argv[i + 1], ',');
    if (a == "--params") params = std::stoull(argv[i + 1]);
    if (a == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  LineReader in(0);
  try {
    std::vector<std::pair<std::string, std::string>> keys;  // name, key
    while (true) {
      const auto line = in.next(std::chrono::seconds(60));
      if (!line) throw std::runtime_error("stdin ended before 'end'");
      if (*line == "end") break;
      const auto w = words(*line);
      if (w.size() != 3 || w[0] != "key") throw std::runtime_error("unexpected line on stdin: " + *line);
      keys.emplace_back(w[1], w[2]);
    }
    if (keys.empty() || models.empty()) throw std::runtime_error("no keys or no models");
    SystemConfig cfg(2);
    caf::actor_system system{cfg};

    // The version table, kept by one subscribed client per process.
    VersionTable table;
    table.current.assign(models.size(), 0);
    HubClient watcher(system, "127.0.0.1", port, keys[0].second, kRequestTimeout);
    for (size_t m = 0; m < models.size(); ++m) {
      watcher.subscribe(models[m]);
      table.raise(m, current_version(watcher, models[m]));
    }
    std::atomic<bool> stop{false};
    std::thread watch([&] {
      try {
        while (!stop) {
          auto event = watcher.next_event(std::chrono::milliseconds(100));
          if (!event) continue;
          const auto* v = events::verify(*event)->body_as_VersionPublished();
          if (!v) continue;
          const auto it = std::find(models.begin(), models.end(), v->model()->str());
          if (it != models.end()) table.raise(static_cast<size_t>(it - models.begin()), v->version());
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-load participant: the version watcher stopped: %s\n", e.what());
      }
    });

    std::vector<std::unique_ptr<HubClient>> clients;
    for (const auto& [name, key] : keys)
      clients.push_back(std::make_unique<HubClient>(system, "127.0.0.1", port, key, kRequestTimeout));
    report("ready");
    std::fflush(stdout);
    const auto go = in.next(std::chrono::seconds(600));
    if (!go || *go != "go") throw std::runtime_error("expected 'go' on stdin");

    const auto t0 = Clock::now();
    const double cpu0 = cpu_seconds(RUSAGE_SELF);
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<ConnectionResult> results(clients.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < clients.size(); ++i) {
      threads.emplace_back([&, i] {
        try {
          participant_loop(*clients[i], models, params, i, table, deadline, results[i]);
        } catch (const std::exception& e) {
          results[i].fatal = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    const double elapsed = seconds_since(t0);
    const double cpu = cpu_seconds(RUSAGE_SELF) - cpu0;
    stop = true;
    watch.join();

    uint64_t acks = 0, stale = 0, duplicate = 0, waits = 0;
    std::map<std::string, std::pair<uint64_t, std::string>> errors;
    for (const auto& r : results) {
      acks += r.acks.size();
      stale += r.stale;
      duplicate += r.duplicate;
      waits += r.waits;
      for (const auto& [code, e] : r.errors) {
        auto& [count, first] = errors[code];
        if (count == 0) first = e.second;
        count += e.first;
      }
      if (!r.fatal.empty()) {
        auto& [count, first] = errors["fatal"];
        if (count++ == 0) first = r.fatal;
      }
    }
    report("done " + std::to_string(acks) + " " + std::to_string(stale) + " " + std::to_string(duplicate) + " " +
           std::to_string(waits) + " " + std::to_string(elapsed) + " " + std::to_string(cpu));
    for (const auto& [code, e] : errors) report("error-count " + code + " " + std::to_string(e.first) + " " + e.second);
    for (const auto& r : results)
      for (const auto& a : r.acks)
        report("ack " + std::to_string(a.model) + " " + a.participant + " " + std::to_string(a.base));
    std::string line;
    for (const auto& r : results) {
      for (uint32_t us : r.latency_us) {
        line += " " + std::to_string(us);
        if (line.size() > 900) {
          report("lat" + line);
          line.clear();
        }
      }
    }
    if (!line.empty()) report("lat" + line);
    report("end");
    std::fflush(stdout);
  } catch (const RequestError& e) {
    report("fail " + e.describe());
    std::fflush(stdout);
    return 1;
  } catch (const std::exception& e) {
    report(std::string("fail ") + e.what());
    std::fflush(stdout);
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------- the parent

struct Options {
  double seconds = 10;
  size_t connections = 200;
  size_t processes = 4;
  size_t models = 4;
  uint64_t params = 10000;
  uint32_t k = 50;
  std::string dir = "/tmp";
};

struct ChildRun {
  Child child;
  std::unique_ptr<LineReader> out;
  size_t first = 0, count = 0;  // its connections
  uint64_t acks = 0, stale = 0, duplicate = 0, waits = 0;
  double elapsed = 0, cpu = 0;
};

// The next "@@ tag" line of a child (other lines go to stderr).
std::vector<std::string> next_report(ChildRun& c, std::chrono::milliseconds timeout) {
  while (true) {
    const auto line = c.out->next(timeout);
    if (!line)
      throw std::runtime_error(c.out->eof() ? "a participant process ended early" : "a participant process is silent");
    if (line->rfind("@@ ", 0) != 0) {
      std::fprintf(stderr, "participant: %s\n", line->c_str());
      continue;
    }
    auto w = words(line->substr(3));
    if (!w.empty() && w[0] == "fail") throw std::runtime_error("a participant process failed: " + line->substr(8));
    return w;
  }
}

// Established TCP connections whose local port is `port` (the hub's side of
// its clients' connections), from /proc/net/tcp.
int connections_to(uint16_t port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);
  int n = 0;
  char want[8];
  std::snprintf(want, sizeof want, "%04X", port);
  while (std::getline(f, line)) {
    const auto w = words(line);
    if (w.size() < 4) continue;
    const auto colon = w[1].find(':');
    if (colon != std::string::npos && w[1].substr(colon + 1) == want && w[3] == "01") ++n;
  }
  return n;
}

double percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t at = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(at), v.end());
  return v[at];
}

using Triple = std::tuple<size_t, std::string, uint64_t>;  // model, participant, base

int run(const Options& o) {
  const std::string hub_program = sibling_program("fl-hub");
  std::printf(
      "bench-load: %zu connections in %zu processes, %zu models of %s parameters, buffered k=%u, fedbuff "
      "max_staleness 4, %.0f s; data under %s; load average %s\n",
      o.connections, o.processes, o.models, count_name(o.params).c_str(), o.k, o.seconds, o.dir.c_str(),
      load_average().c_str());
  progress("measuring synced 4 KiB writes in %s (2 s overwriting, 2 s appending)\n", o.dir.c_str());
  const SyncRate sync = fsync_rate(o.dir, 2.0);
  std::printf("limit: 4 KiB pwrite + fdatasync before the run: %.0f/s overwriting one block, %.0f/s appending\n",
              sync.overwrite, sync.append);
  // Measured again after the run (other work on the machine moves it a
  // lot); F is the best of the four.
  double f_rate = sync.best();

  TempDir run(o.dir, "fedhub-bench-load.");
  const std::string data = run.path() + "/data";
  progress("starting fl-hub (data %s)\n", data.c_str());
  HubProcess hub(hub_program, data, run.path() + "/hub.log");
  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  try {
    HubClient manager(system, "127.0.0.1", hub.port(), hub.manager_key(), kRequestTimeout);
    std::vector<std::string> models;
    const std::string policy =
        R"({"merge":"buffered","k":)" + std::to_string(o.k) + R"(,"staleness":{"kind":"fedbuff","max_staleness":4}})";
    for (size_t m = 0; m < o.models; ++m) {
      models.push_back("load-" + std::to_string(m));
      create_dense_model(manager, models.back(), o.params, policy);
    }
    std::vector<std::pair<std::string, std::string>> keys;
    const auto tk = Clock::now();
    for (size_t i = 0; i < o.connections; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "p%03zu", i);
      Buffer holder;
      keys.emplace_back(
          name, manager.call_as<fb::KeyCreated>(requests::add_key(manager.key(), name, fb::Role::participant), holder)
                    ->key()
                    ->str());
    }
    progress("created %zu models and %zu keys (%.2f s for the keys); starting %zu participant processes\n",
             models.size(), keys.size(), seconds_since(tk), o.processes);

    std::string model_list;
    for (const auto& m : models) model_list += (model_list.empty() ? "" : ",") + m;
    std::vector<ChildRun> children(o.processes);
    for (size_t p = 0; p < o.processes; ++p) {
      auto& c = children[p];
      c.first = p * o.connections / o.processes;
      c.count = (p + 1) * o.connections / o.processes - c.first;
      c.child = spawn({self_exe(), "--participant", "--port", std::to_string(hub.port()), "--models", model_list,
                       "--params", std::to_string(o.params), "--seconds", std::to_string(o.seconds)});
      c.out = std::make_unique<LineReader>(c.child.out);
      std::string lines;
      for (size_t i = c.first; i < c.first + c.count; ++i)
        lines += "key " + keys[i].first + " " + keys[i].second + "\n";
      write_all(c.child.in, lines + "end\n");
    }
    for (auto& c : children) {
      const auto w = next_report(c, std::chrono::seconds(120));
      if (w.empty() || w[0] != "ready") throw std::runtime_error("a participant process did not get ready");
    }
    progress("%zu connections ready; running for %.0f s\n", o.connections, o.seconds);
    const double hub_cpu0 = hub.cpu_seconds();
    const auto io0 = hub.io();
    const auto t0 = Clock::now();
    for (auto& c : children) write_all(c.child.in, "go\n");

    // Mid-run: the hub's TCP connections and CPU.
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds / 2));
    const int tcp = connections_to(hub.port());
    const double hub_cpu_mid = hub.cpu_seconds() - hub_cpu0;
    const double mid_s = seconds_since(t0);

    std::vector<uint32_t> latencies;
    std::set<Triple> acked;
    uint64_t acks = 0, stale = 0, duplicate = 0, waits = 0, duplicate_acks = 0;
    std::map<std::string, std::pair<uint64_t, std::string>> errors;
    double elapsed = 0, child_cpu = 0;
    for (auto& c : children) {
      while (true) {
        const auto w = next_report(c, std::chrono::seconds(static_cast<long>(o.seconds) + 300));
        if (w.empty()) continue;
        if (w[0] == "end") break;
        if (w[0] == "done" && w.size() >= 7) {
          c.acks = std::stoull(w[1]);
          c.stale = std::stoull(w[2]);
          c.duplicate = std::stoull(w[3]);
          c.waits = std::stoull(w[4]);
          c.elapsed = std::stod(w[5]);
          c.cpu = std::stod(w[6]);
        } else if (w[0] == "ack" && w.size() == 4) {
          if (!acked.emplace(std::stoull(w[1]), w[2], std::stoull(w[3])).second) ++duplicate_acks;
        } else if (w[0] == "lat") {
          for (size_t i = 1; i < w.size(); ++i) latencies.push_back(static_cast<uint32_t>(std::stoul(w[i])));
        } else if (w[0] == "error-count" && w.size() >= 3) {
          auto& [count, first] = errors[w[1]];
          std::string message;
          for (size_t i = 3; i < w.size(); ++i) message += (i > 3 ? " " : "") + w[i];
          if (count == 0) first = message;
          count += std::stoull(w[2]);
        }
      }
      acks += c.acks;
      stale += c.stale;
      duplicate += c.duplicate;
      waits += c.waits;
      elapsed = std::max(elapsed, c.elapsed);
      child_cpu += c.cpu;
      const auto status = wait_for(c.child.pid, std::chrono::seconds(60));
      close(c.child.in);
      close(c.child.out);
      if (!status || *status != 0)
        std::fprintf(stderr, "note: a participant process ended with %s\n",
                     status ? describe_status(*status).c_str() : "no exit");
    }
    const double hub_cpu = hub.cpu_seconds() - hub_cpu0;
    const auto io1 = hub.io();
    const double wall = seconds_since(t0);
    progress("measuring synced 4 KiB writes again (1 s overwriting, 1 s appending)\n");
    const SyncRate sync_after = fsync_rate(o.dir, 1.0);
    f_rate = std::max(f_rate, sync_after.best());
    std::printf(
        "limit: 4 KiB pwrite + fdatasync after the run: %.0f/s overwriting one block, %.0f/s appending -> F = "
        "%.0f/s\n",
        sync_after.overwrite, sync_after.append, f_rate);

    // Versions reached, then merge what is pending and list every version.
    std::vector<uint64_t> reached(models.size());
    for (size_t m = 0; m < models.size(); ++m) reached[m] = current_version(manager, models[m]);
    progress("run over (%llu acknowledged); merging what is pending and listing every version\n",
             static_cast<unsigned long long>(acks));
    std::set<Triple> found;
    uint64_t listed = 0, merges_after = 0;
    for (size_t m = 0; m < models.size(); ++m) {
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      uint64_t current = 0;
      while (true) {
        Buffer holder;
        const auto* st = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), models[m], -1), holder);
        current = st->summary()->current_version();
        if (!st->summary()->merging() && st->summary()->pending_contributions() == 0) break;
        if (Clock::now() > deadline)
          throw std::runtime_error("model '" + models[m] + "' still has pending contributions after 120 s");
        if (!st->summary()->merging()) {
          try {
            Buffer h;
            manager.call_as<fb::MergeReceipt>(requests::merge(manager.key(), models[m], current), h);
            ++merges_after;
          } catch (const RequestError& e) {
            if (e.code() != ErrorCode::merge_in_progress && e.code() != ErrorCode::base_not_current &&
                e.code() != ErrorCode::not_enough_contributions)
              throw;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      for (uint64_t v = 0; v <= current; ++v) {
        Buffer holder;
        const auto* st = manager.call_as<fb::ModelStatus>(
            requests::status(manager.key(), models[m], static_cast<int64_t>(v)), holder);
        for (const auto* c : *st->contributions()) {
          ++listed;
          found.emplace(m, c->participant()->str(), c->base_version());
        }
      }
      reached[m] = current;
    }
    uint64_t lost = 0, extra = 0;
    std::vector<Triple> lost_examples;
    for (const auto& t : acked)
      if (!found.count(t)) {
        ++lost;
        if (lost_examples.size() < 5) lost_examples.push_back(t);
      }
    for (const auto& t : found)
      if (!acked.count(t)) ++extra;

    const double c_rate = static_cast<double>(acks) / elapsed;
    const double p50 = percentile(latencies, 0.50) / 1000.0;
    const double p99 = percentile(latencies, 0.99) / 1000.0;
    const double pmax = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end()) / 1000.0;
    std::printf(
        "\n| connections | processes | models | acknowledged | contributions/s | C / F | upload p50 ms | "
        "p99 ms | max ms | stale | duplicate | lost |\n");
    std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    std::printf("| %zu | %zu | %zu | %llu | %.0f | %.2f | %.1f | %.1f | %.1f | %llu | %llu | %llu |\n", o.connections,
                o.processes, o.models, static_cast<unsigned long long>(acks), c_rate, c_rate / f_rate, p50, p99, pmax,
                static_cast<unsigned long long>(stale), static_cast<unsigned long long>(duplicate),
                static_cast<unsigned long long>(lost));
    std::printf("\ndetails:\n");
    std::printf("  uploads started for %.1f s, the last ended at %.2f s (wall to the last report %.2f s)\n", o.seconds,
                elapsed, wall);
    std::printf("  versions reached:");
    for (size_t m = 0; m < models.size(); ++m)
      std::printf(" %s %llu", models[m].c_str(), static_cast<unsigned long long>(reached[m]));
    std::printf(" (%llu merges asked for after the run)\n", static_cast<unsigned long long>(merges_after));
    std::printf(
        "  hub CPU %.2f s over %.2f s (%.0f%% of one core; mid-run %.0f%%); storage writes %.1f MB, "
        "write calls %.1f MB\n",
        hub_cpu, wall, 100 * hub_cpu / wall, 100 * hub_cpu_mid / mid_s,
        io1.write_bytes < 0 ? -1.0 : static_cast<double>(io1.write_bytes - io0.write_bytes) / 1e6,
        io1.wchar < 0 ? -1.0 : static_cast<double>(io1.wchar - io0.wchar) / 1e6);
    std::printf(
        "  participant processes' CPU %.2f s; waits for a new version %llu; established TCP connections to "
        "the hub mid-run: %d (CAF shares one per client process and node)\n",
        child_cpu, static_cast<unsigned long long>(waits), tcp);
    for (const auto& [code, e] : errors)
      std::printf("  other refusals: %s x %llu (first: %s)\n", code.c_str(), static_cast<unsigned long long>(e.first),
                  e.second.c_str());
    std::printf(
        "  check: %llu acknowledged (%llu acknowledged twice), %llu listed by Status, %llu missing (lost), "
        "%llu listed but not acknowledged\n",
        static_cast<unsigned long long>(acked.size()), static_cast<unsigned long long>(duplicate_acks),
        static_cast<unsigned long long>(listed), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(extra));
    for (const auto& [m, who, base] : lost_examples)
      std::printf("  lost: %s from %s on base %llu\n", models[m].c_str(), who.c_str(),
                  static_cast<unsigned long long>(base));
    std::printf("goals: C >= 2 x F %s (C/F = %.2f), lost = 0 %s; load average at the end %s\n",
                c_rate >= 2 * f_rate ? "met" : "NOT met", c_rate / f_rate, lost == 0 ? "met" : "NOT met",
                load_average().c_str());
    std::printf("bench-load: contributions_per_s %.0f fsyncs_per_s %.0f p99_ms %.1f lost %llu\n", c_rate, f_rate, p99,
                static_cast<unsigned long long>(lost));
  } catch (...) {
    std::fprintf(stderr, "bench-load: failed; the hub's log ends:\n%s\n", hub.log_tail().c_str());
    throw;
  }
  const int status = hub.stop();
  if (status != 0) std::fprintf(stderr, "note: fl-hub ended with %s\n", describe_status(status).c_str());
  const auto complaints = hub.unusual_log_lines();
  for (size_t i = 0; i < complaints.size() && i < 10; ++i) progress("fl-hub's log: %s\n", complaints[i].c_str());
  if (!complaints.empty()) std::fprintf(stderr, "fl-hub logged %zu unusual line(s)\n", complaints.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // as the fedhub programs do (apps/cli.cpp)
  if (argc > 1 && std::strcmp(argv[1], "--participant") == 0) return participant_main(argc, argv);
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      const bool has_value = i + 1 < argc;
      if (a == "--help" || a == "-h") {
        std::printf("%s", kUsage);
        return 0;
      } else if (a == "--seconds" && has_value) {
        o.seconds = std::stod(argv[++i]);
        if (!(o.seconds > 0)) throw std::invalid_argument("--seconds must be positive");
      } else if (a == "--connections" && has_value) {
        o.connections = parse_count(argv[++i]);
      } else if (a == "--processes" && has_value) {
        o.processes = parse_count(argv[++i]);
      } else if (a == "--models" && has_value) {
        o.models = parse_count(argv[++i]);
      } else if (a == "--params" && has_value) {
        o.params = parse_count(argv[++i]);
        dense_layout(o.params);
      } else if (a == "--k" && has_value) {
        o.k = static_cast<uint32_t>(parse_count(argv[++i]));
      } else if (a == "--dir" && has_value) {
        o.dir = argv[++i];
      } else {
        std::fprintf(stderr, "bench-load: unknown argument '%s'\n%s", a.c_str(), kUsage);
        return 2;
      }
    }
    if (o.connections == 0 || o.processes == 0 || o.models == 0 || o.k == 0 || o.processes > o.connections ||
        o.processes > 16)
      throw std::invalid_argument("connections, models and k must be positive, 1 <= processes <= min(16, connections)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-load: %s\n%s", e.what(), kUsage);
    return 2;
  }
  install_cleanup();
  try {
    return run(o);
  } catch (const RequestError& e) {
    std::fprintf(stderr, "bench-load: error: %s\n", e.describe().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-load: error: %s\n", e.what());
  }
  return 1;
}
