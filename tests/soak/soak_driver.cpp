// fedhub-soak-driver: participant and downloader clients of a real fl-hub,
// one thread per client, for the crash-safety test and the load soak.
//
//   fedhub-soak-driver upload --port P --keys FILE --models a,b --params N --log FILE
//                             [--index I] [--pause-ms MS] [--seconds S] [--reconnect S] [--seed N]
//   fedhub-soak-driver download --port P --keys FILE --models a,b --log FILE
//                             [--pause-ms MS] [--seconds S] [--reconnect S]
//
// Each line "NAME KEY" of the keys file is one client with a connection of
// its own (an actor system of its own: CAF shares one connection per node).
// An uploader takes the models in turn: the current version (a 1-byte
// download), a random contribution for it unless it has contributed to that
// version already (once per base version), the upload (begin, parts,
// commit), and the outcome in the receipt log (soak_support.hpp): `ack`
// fsynced only after the hub's receipt arrived and before the next request.
// A downloader fetches the current version of the models in turn and checks
// each package's hash. A lost hub makes a client reconnect (every 50 ms, for
// up to --reconnect seconds, default 120; then the driver fails). Runs until
// --seconds have passed (0, the default: until SIGTERM or SIGINT), then
// prints one line:
//   driver: done acks A stale S duplicate D lost L refused R (busy B) reconnects C downloads N bytes B
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <caf/actor_system.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "client/hub_client.hpp"
#include "client/system_config.hpp"
#include "messages/errors.hpp"
#include "messages/model_package.hpp"
#include "soak/soak_support.hpp"

using namespace fedhub;
using namespace fedhub::soak;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

struct Options {
  std::string mode;
  uint16_t port = 0;
  std::string keys;
  std::vector<std::string> models;
  uint64_t params = 0;
  std::string log;
  uint64_t index = 0;
  int pause_ms = 0;
  double seconds = 0;
  double reconnect = 120;
  uint64_t seed = 1;
};

struct Counts {
  std::atomic<uint64_t> acks{0}, stale{0}, duplicate{0}, lost{0}, refused{0}, busy{0}, reconnects{0}, downloads{0},
      bytes{0};
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(sep, start);
    const std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// A connection that comes back after the hub is lost.
class Connection {
 public:
  Connection(const Options& o, std::string key, Counts& counts) : o_(o), key_(std::move(key)), counts_(counts) {}

  // The client, connecting first if needed (retrying for o.reconnect s).
  HubClient& get() {
    if (client_) return *client_;
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.reconnect));
    for (;;) {
      try {
        client_ = std::make_unique<HubClient>(system_, "127.0.0.1", o_.port, key_, std::chrono::seconds(30));
        if (ever_) ++counts_.reconnects;
        ever_ = true;
        return *client_;
      } catch (const RequestError& e) {
        if (g_stop || Clock::now() > deadline)
          throw std::runtime_error("cannot reach the hub at port " + std::to_string(o_.port) + ": " + e.describe());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the hub is restarting
    }
  }
  void drop() { client_.reset(); }

 private:
  const Options& o_;
  std::string key_;
  Counts& counts_;
  SystemConfig cfg_{1};
  caf::actor_system system_{cfg_};
  std::unique_ptr<HubClient> client_;
  bool ever_ = false;
};

bool lost_hub(const RequestError& e) { return e.code() == ErrorCode::unavailable || e.code() == ErrorCode::timeout; }

void pause(std::mt19937_64& rng, int ms) {
  if (ms <= 0) return;
  std::uniform_int_distribution<int> d(ms / 2, ms + ms / 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
}

void uploader(const Options& o, const std::string& name, const std::string& key, uint64_t index, ReceiptLog& log,
              Counts& counts, Clock::time_point deadline) {
  Connection conn(o, key, counts);
  std::mt19937_64 rng(o.seed * 1000003 + index);
  std::vector<int64_t> last(o.models.size(), -1);  // the base last contributed to (or refused duplicate)
  uint64_t seq = 0;
  size_t next = index % o.models.size();
  conn.get();
  while (!g_stop && Clock::now() < deadline) {
    size_t m = o.models.size();
    uint64_t base = 0;
    try {
      for (size_t j = 0; j < o.models.size() && m == o.models.size(); ++j) {
        const size_t c = (next + j) % o.models.size();
        const uint64_t v = current_version(conn.get(), o.models[c]);
        if (static_cast<int64_t>(v) != last[c]) {
          m = c;
          base = v;
        }
      }
    } catch (const RequestError& e) {
      if (!lost_hub(e)) throw;
      conn.drop();
      continue;
    }
    if (m == o.models.size()) {  // contributed to every current version: wait for a merge
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    next = (m + 1) % o.models.size();
    const uint64_t samples = (index + 1) * 1000000 + ++seq;
    const std::string what = o.models[m] + " " + std::to_string(base) + " " + name + " " + std::to_string(samples);
    const Buffer file = random_contribution(o.models[m], base, o.params, rng(), samples);
    log.write("begin " + what, false);
    try {
      const auto receipt = conn.get().upload(file);
      if (receipt.model != o.models[m] || receipt.base_version != base || receipt.participant != name)
        throw std::runtime_error("a receipt for another contribution: " + receipt.model + " " +
                                 std::to_string(receipt.base_version) + " " + receipt.participant + " after " + what);
      log.write("ack " + what, true);  // durable before the next request
      ++counts.acks;
      last[m] = static_cast<int64_t>(base);
    } catch (const RequestError& e) {
      if (lost_hub(e)) {
        log.write("lost " + what, false);
        ++counts.lost;
        conn.drop();
        continue;
      }
      log.write("refused " + error_name(e.code()) + " " + what, false);
      if (e.code() == ErrorCode::stale) {
        ++counts.stale;
      } else if (e.code() == ErrorCode::duplicate) {
        // An upload of ours whose receipt the hub's crash swallowed.
        ++counts.duplicate;
        last[m] = static_cast<int64_t>(base);
      } else {
        ++counts.refused;
        if (e.code() == ErrorCode::busy) ++counts.busy;
        if (e.code() != ErrorCode::busy && e.code() != ErrorCode::quota_exceeded &&
            e.code() != ErrorCode::unknown_upload && e.code() != ErrorCode::internal)
          std::fprintf(stderr, "driver: %s: %s\n", name.c_str(), e.describe().c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    pause(rng, o.pause_ms);
  }
}

void downloader(const Options& o, const std::string& key, uint64_t index, Counts& counts, Clock::time_point deadline) {
  Connection conn(o, key, counts);
  std::mt19937_64 rng(o.seed * 7919 + index);
  size_t m = index % o.models.size();
  conn.get();
  while (!g_stop && Clock::now() < deadline) {
    try {
      const Buffer package = conn.get().download_package(o.models[m], -1);
      view_model_package(package, true);  // frame, header and data hash
      ++counts.downloads;
      counts.bytes += package.size();
    } catch (const RequestError& e) {
      if (!lost_hub(e)) throw;
      conn.drop();
      continue;
    }
    m = (m + 1) % o.models.size();
    pause(rng, o.pause_ms);
  }
}

int run(const Options& o) {
  const auto keys = read_keys(o.keys);
  if (keys.empty()) throw std::runtime_error("no keys in " + o.keys);
  ReceiptLog log(o.log);
  Counts counts;
  const auto deadline =
      o.seconds > 0
          ? Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds))
          : Clock::time_point::max();
  std::mutex m;
  std::string fatal;
  std::vector<std::thread> threads;
  uint64_t i = 0;
  for (const auto& [name, key] : keys) {
    const uint64_t index = o.index + i++;
    threads.emplace_back([&, name = name, key = key, index] {
      try {
        if (o.mode == "upload")
          uploader(o, name, key, index, log, counts, deadline);
        else
          downloader(o, key, index, counts, deadline);
      } catch (const std::exception& e) {
        std::lock_guard lock(m);
        if (fatal.empty()) fatal = name + ": " + e.what();
        g_stop = true;
      }
    });
  }
  std::printf("driver: started %zu %s clients\n", keys.size(), o.mode.c_str());
  std::fflush(stdout);
  for (auto& t : threads) t.join();
  std::printf(
      "driver: done acks %llu stale %llu duplicate %llu lost %llu refused %llu (busy %llu) reconnects %llu downloads "
      "%llu "
      "bytes %llu\n",
      static_cast<unsigned long long>(counts.acks.load()), static_cast<unsigned long long>(counts.stale.load()),
      static_cast<unsigned long long>(counts.duplicate.load()), static_cast<unsigned long long>(counts.lost.load()),
      static_cast<unsigned long long>(counts.refused.load()), static_cast<unsigned long long>(counts.busy.load()),
      static_cast<unsigned long long>(counts.reconnects.load()),
      static_cast<unsigned long long>(counts.downloads.load()), static_cast<unsigned long long>(counts.bytes.load()));
  if (!fatal.empty()) {
    std::printf("driver: fatal %s\n", fatal.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  Options o;
  try {
    if (argc < 2) throw std::invalid_argument("upload or download?");
    o.mode = argv[1];
    if (o.mode != "upload" && o.mode != "download") throw std::invalid_argument("upload or download, not " + o.mode);
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string a = argv[i], v = argv[i + 1];
      if (a == "--port")
        o.port = static_cast<uint16_t>(std::stoi(v));
      else if (a == "--keys")
        o.keys = v;
      else if (a == "--models")
        o.models = split(v, ',');
      else if (a == "--params")
        o.params = std::stoull(v);
      else if (a == "--log")
        o.log = v;
      else if (a == "--index")
        o.index = std::stoull(v);
      else if (a == "--pause-ms")
        o.pause_ms = std::stoi(v);
      else if (a == "--seconds")
        o.seconds = std::stod(v);
      else if (a == "--reconnect")
        o.reconnect = std::stod(v);
      else if (a == "--seed")
        o.seed = std::stoull(v);
      else
        throw std::invalid_argument("unknown option " + a);
    }
    if (o.port == 0 || o.keys.empty() || o.models.empty() || o.log.empty() || (o.mode == "upload" && o.params == 0))
      throw std::invalid_argument("--port, --keys, --models, --log (and for uploads --params) are needed");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fedhub-soak-driver: %s\n", e.what());
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::printf("driver: fatal %s\n", e.what());
    return 1;
  }
}
