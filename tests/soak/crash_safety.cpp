// crash_safety (issue 10, item 1): a real fl-hub under continuous uploads and
// merges from several participant processes and a merging `fl-manager watch`,
// killed with SIGKILL at seeded random moments and restarted; after each
// restart the hub's state is checked against what its clients were told.
//
//   fedhub-crash-safety [--kills N] [--seed S] [--params P] [--drivers D] [--participants K]
//
// Setup: a fresh data directory and config file (upload parts of 64 KiB, so
// that an upload of the P = 262,144-parameter model, 1 MiB, is 16 parts),
// two dense models with constant staleness up to 2 versions: `cm` (manual
// merges, done by `fl-manager watch cm --merge-at 3`) and `cb` (buffered
// merges of 3, done by the hub itself); D driver processes
// (fedhub-soak-driver upload) of K participants each, every participant a
// connection of its own uploading back to back (alternating the models)
// and fsyncing each receipt to its driver's log only after it arrived.
//
// A kill: after a seeded random number (3 to 15) of further acknowledged
// uploads, waited for on the logs (inotify), and a seeded random delay of
// 0-250 ms, SIGKILL. Uploads are then in flight at every stage (parts
// staged, commits waiting for the journal's synced batch), and merges and
// their synced writes run every few uploads. Each kill's line says what
// was in flight: uploads begun and not answered, by the drivers' logs, and,
// for every other kill, what the store held (the data directory opened
// offline before the restart: staged upload sessions, pending contributions,
// versions' weights newer than the newest version info).
//
// After each restart (and at the end, with everything stopped):
//   - versions only grow: the current version is at least every version seen
//     before (by this checker, and as a receipt's base by a participant), the
//     history is 0..current without gaps, and every version seen before has
//     the same info (hash, contributions, samples) as before;
//   - no version is half-written: every retained version is downloaded and
//     verified whole (frame, spec, layout, data hash) and its data hash and
//     size are the version info's;
//   - every acknowledged contribution is there exactly once: listed by
//     `status` for its base, once, with its sample count (a unique tag);
//   - the filtering state agrees with the contributions: each merged
//     version's contribution count and total samples are those of the
//     contributions listed with that round, the pending count (at the end)
//     those of the open rounds, and a re-upload of acknowledged
//     contributions (still within the staleness window) is refused
//     `duplicate`;
//   - participants carry on: every driver acknowledges new uploads after the
//     restart, and both models get new versions (the watch reconnected and
//     merges).
// Last line:
//   crash_safety: kills K acknowledged A lost L violations V versions cm=X cb=Y seed S
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
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
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "persistence/store.hpp"
#include "soak/soak_support.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub;
using namespace fedhub::soak;
using fedhub::testing::Child;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int kills = 3;
  uint64_t seed = 1;
  uint64_t params = 262144;
  int drivers = 3;
  int participants = 4;
};

const std::vector<std::string> kModels = {"cm", "cb"};
constexpr int kMaxStaleness = 2;

// A child process whose output is drained by a thread once it is ready.
struct Proc {
  std::unique_ptr<Child> child;
  std::thread drain;
  std::string out;

  void start(const std::vector<std::string>& argv, const std::string& ready, int seconds) {
    child = std::make_unique<Child>(argv);
    out = fedhub::testing::wait_line(*child, ready, std::chrono::seconds(seconds)) + "\n";
    drain = std::thread([this] { out += child->read_rest(); });
  }
  // Signals the process, waits for its end (at most `limit`) and its output.
  int stop(int sig, std::chrono::seconds limit = std::chrono::seconds(60)) {
    child->signal(sig);
    const int code = child->wait_at_most(limit);
    if (drain.joinable()) drain.join();
    return code;
  }
  ~Proc() {
    if (child) child->signal(SIGKILL);
    if (drain.joinable()) drain.join();
  }
};

// Waits, without polling, until `done()` holds: re-checked whenever a file in
// `dir` is written, up to `limit`. Returns false at the deadline.
template <class F>
bool wait_on_dir(const std::string& dir, std::chrono::seconds limit, F done) {
  const int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) throw std::runtime_error("inotify_init1 failed");
  if (inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE) < 0) {
    ::close(fd);
    throw std::runtime_error("inotify_add_watch failed on " + dir);
  }
  const auto deadline = Clock::now() + limit;
  bool ok = false;
  char buf[8192];
  for (;;) {
    if (done()) {
      ok = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  }
  ::close(fd);
  return ok;
}

struct Seen {
  uint64_t data_hash = 0, contributions = 0, total_samples = 0, package_bytes = 0;
  bool operator==(const Seen&) const = default;
};

uint64_t oldest_retained(HubClient& manager, const std::string& model) {
  Buffer holder;
  return manager.call_as<fb::ModelStatus>(requests::status(manager.key(), model, -1), holder)
      ->summary()
      ->oldest_retained();
}

class Checker {
 public:
  Checker(const Options& o, const std::string& run) : o_(o), run_(run) {}

  std::vector<std::string> logs() const {
    std::vector<std::string> out;
    for (int d = 0; d < o_.drivers; ++d) out.push_back(run_ + "/logs/driver-" + std::to_string(d) + ".log");
    return out;
  }
  // Every log entry (complete lines).
  std::vector<LogEntry> entries() const {
    std::vector<LogEntry> all;
    for (const auto& f : logs()) {
      auto e = read_log(f);
      all.insert(all.end(), e.begin(), e.end());
    }
    return all;
  }
  std::vector<uint64_t> acks_per_driver() const {
    std::vector<uint64_t> out;
    for (const auto& f : logs()) {
      uint64_t n = 0;
      for (const auto& e : read_log(f)) n += e.kind == "ack";
      out.push_back(n);
    }
    return out;
  }

  void violation(const std::string& what) {
    ++violations_;
    std::printf("VIOLATION: %s\n", what.c_str());
    std::fflush(stdout);
  }

  // The whole check against the hub (see the file's comment). `final`: nothing
  // runs any more (pending counts must match exactly).
  void check(HubClient& manager, caf::actor_system& system, uint16_t port,
             const std::map<std::string, std::string>& keys, bool final) {
    const auto acked_entries = entries();  // read first: every ack here is older than the listings
    std::map<ContributionKey, uint64_t> acked;
    for (const auto& e : acked_entries)
      if (e.kind == "ack") {
        if (!acked.emplace(ContributionKey{e.model, e.base, e.participant}, e.samples).second)
          violation("acknowledged twice: " + e.model + " " + std::to_string(e.base) + " " + e.participant);
        auto& seen = max_seen_[e.model];
        seen = std::max(seen, e.base);
      }
    acknowledged_ = acked.size();
    lost_now_ = 0;
    listed_.clear();
    for (const auto& model : kModels) check_model(manager, model, acked, final);
    for (const auto& [k, samples] : acked) {
      const auto& [model, base, who] = k;
      auto it = listed_.find(k);
      if (it == listed_.end()) {
        ++lost_now_;
        violation("lost: acknowledged " + model + " base " + std::to_string(base) + " from " + who + " (samples " +
                  std::to_string(samples) + ") is not listed by the hub");
      } else if (it->second != samples) {
        violation("acknowledged " + model + " base " + std::to_string(base) + " from " + who + " has samples " +
                  std::to_string(it->second) + ", not " + std::to_string(samples));
      }
    }
    extra_ = 0;
    for (const auto& [k, samples] : listed_)
      if (!acked.count(k)) ++extra_;
    check_duplicates(system, port, keys, acked);
    lost_ = std::max(lost_, lost_now_);
  }

  uint64_t violations() const { return violations_; }
  uint64_t acknowledged() const { return acknowledged_; }
  uint64_t lost() const { return lost_; }
  uint64_t extra() const { return extra_; }
  uint64_t duplicate_checks() const { return duplicate_checks_; }
  uint64_t versions_downloaded() const { return versions_downloaded_; }
  uint64_t current(const std::string& m) const {
    auto it = current_.find(m);
    return it == current_.end() ? 0 : it->second;
  }

 private:
  void check_model(HubClient& manager, const std::string& model, const std::map<ContributionKey, uint64_t>& acked,
                   bool final) {
    Buffer holder;
    const auto* st = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), model, -1), holder);
    const auto* sum = st->summary();
    const uint64_t current = sum->current_version();
    const uint64_t pending = sum->pending_contributions();
    if (current < max_seen_[model])
      violation(model + ": current version " + std::to_string(current) + " is below version " +
                std::to_string(max_seen_[model]) + " seen before");
    max_seen_[model] = std::max(max_seen_[model], current);
    current_[model] = current;
    std::map<uint64_t, Seen> infos;
    uint64_t expect = 0;
    if (st->versions())
      for (const auto* v : *st->versions()) {
        if (v->version() != expect)
          violation(model + ": the history has version " + std::to_string(v->version()) + " where " +
                    std::to_string(expect) + " belongs");
        expect = v->version() + 1;
        infos[v->version()] = {v->data_hash(), v->contributions(), v->total_samples(), v->package_bytes()};
      }
    if (expect != current + 1)
      violation(model + ": the history ends at " + std::to_string(expect) + " - 1, current is " +
                std::to_string(current));
    for (const auto& [v, s] : infos) {
      auto [it, fresh] = history_[model].emplace(v, s);
      if (!fresh && !(it->second == s))
        violation(model + ": version " + std::to_string(v) + " changed its info across a restart");
    }
    // Every retained version, downloaded whole and verified.
    for (uint64_t v = sum->oldest_retained(); v <= current; ++v) {
      try {
        const Buffer package = manager.download_package(model, static_cast<int64_t>(v));
        const auto loaded = read_model_package(package);
        ++versions_downloaded_;
        if (loaded.version != v) violation(model + ": a download of version " + std::to_string(v) + " is another");
        if (loaded.data_hash != infos[v].data_hash || package.size() != infos[v].package_bytes)
          violation(model + ": version " + std::to_string(v) + " differs from its version info");
      } catch (const RequestError& e) {
        // Merges go on while this runs: a version pruned since the status
        // above is fine when the model's retained window has moved past it.
        if (e.code() == ErrorCode::unknown_version && oldest_retained(manager, model) > v) continue;
        violation(model + ": version " + std::to_string(v) + " cannot be downloaded whole: " + e.describe());
      }
    }
    // Every contribution the hub lists, per base version.
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> rounds;  // round base -> count, samples
    for (uint64_t b = 0; b <= current; ++b) {
      Buffer h;
      const auto* s =
          manager.call_as<fb::ModelStatus>(requests::status(manager.key(), model, static_cast<int64_t>(b)), h);
      std::set<std::string> who;
      for (const auto* c : *s->contributions()) {
        const std::string p = c->participant()->str();
        if (!who.insert(p).second) violation(model + ": " + p + " is listed twice for base " + std::to_string(b));
        if (c->base_version() != b)
          violation(model + ": status of base " + std::to_string(b) + " lists a contribution to " +
                    std::to_string(c->base_version()));
        listed_[ContributionKey{model, b, p}] = c->num_samples();
        auto& r = rounds[c->round_base()];
        ++r.first;
        r.second += c->num_samples();
      }
    }
    for (uint64_t v = 1; v <= current; ++v) {
      const auto& r = rounds[v - 1];
      if (infos[v].contributions != r.first || infos[v].total_samples != r.second)
        violation(model + ": version " + std::to_string(v) + " merged " + std::to_string(infos[v].contributions) +
                  " contributions of " + std::to_string(infos[v].total_samples) + " samples; the filter state has " +
                  std::to_string(r.first) + " of " + std::to_string(r.second) + " in its round");
    }
    if (final) {
      uint64_t open = 0;
      for (const auto& [rb, r] : rounds)
        if (rb >= current) open += r.first;
      if (open != pending)
        violation(model + ": " + std::to_string(pending) + " pending, the filter state has " + std::to_string(open) +
                  " in open rounds");
    }
    (void)acked;
  }

  // Re-uploads of acknowledged contributions within the staleness window
  // must be refused `duplicate`.
  void check_duplicates(caf::actor_system& system, uint16_t port, const std::map<std::string, std::string>& keys,
                        const std::map<ContributionKey, uint64_t>& acked) {
    for (const auto& model : kModels) {
      std::vector<std::pair<ContributionKey, uint64_t>> window;
      for (const auto& [k, samples] : acked)
        if (std::get<0>(k) == model && std::get<1>(k) + kMaxStaleness >= current_[model])
          window.emplace_back(k, samples);
      std::shuffle(window.begin(), window.end(), rng_);
      if (window.size() > 4) window.resize(4);
      for (const auto& [k, samples] : window) {
        const auto& [m, base, who] = k;
        HubClient client(system, "127.0.0.1", port, keys.at(who), std::chrono::seconds(30));
        const Buffer file = random_contribution(m, base, o_.params, rng_(), samples);
        try {
          client.upload(file);
          violation("a re-upload of acknowledged " + m + " base " + std::to_string(base) + " from " + who +
                    " was accepted (the filtering state lost it)");
        } catch (const RequestError& e) {
          if (e.code() == ErrorCode::duplicate) {
            ++duplicate_checks_;
          } else if (e.code() == ErrorCode::stale) {
            // The open round moved past the window meanwhile (buffered
            // merges queue rounds ahead of the published version): refused
            // all the same, nothing stored twice.
            ++stale_rechecks_;
          } else {
            violation("a re-upload of acknowledged " + m + " base " + std::to_string(base) + " from " + who +
                      " was refused " + e.describe() + ", not duplicate");
          }
        }
      }
    }
  }

  const Options& o_;
  std::string run_;
  std::mt19937_64 rng_{12345};
  std::map<std::string, uint64_t> max_seen_, current_;
  std::map<std::string, std::map<uint64_t, Seen>> history_;
  std::map<ContributionKey, uint64_t> listed_;
  uint64_t stale_rechecks_ = 0, violations_ = 0, acknowledged_ = 0, lost_ = 0, lost_now_ = 0, extra_ = 0,
           duplicate_checks_ = 0, versions_downloaded_ = 0;
};

// What the store of a killed hub holds (opened offline, before the restart).
std::string inspect_store(const std::string& data) {
  auto store = Store::open(data);
  std::string out;
  for (const auto& m : kModels) {
    const auto latest = store->latest_version(m).value_or(0);
    const auto stored = store->stored_versions(m);
    const bool newer = !stored.empty() && stored.back() > latest;
    out += " " + m + ": staged uploads " + std::to_string(store->uploads(m).size()) + ", pending " +
           std::to_string(store->pending(m).size()) + ", version " + std::to_string(latest) +
           (newer ? " + weights of an uncommitted version " + std::to_string(stored.back()) : "");
  }
  return out;
}

// Uploads begun and not answered, by the logs (the last entry of each
// participant is a `begin`).
uint64_t in_flight(const std::vector<LogEntry>& entries) {
  std::map<std::string, std::string> last;
  for (const auto& e : entries) last[e.participant] = e.kind;
  uint64_t n = 0;
  for (const auto& [p, kind] : last) n += kind == "begin";
  return n;
}

// Waits (on the hub's events) until every model has a version above `above`.
bool wait_for_versions(HubClient& manager, const std::map<std::string, uint64_t>& above, std::chrono::seconds limit) {
  for (const auto& m : kModels) manager.subscribe(m);
  std::map<std::string, uint64_t> now;
  for (const auto& m : kModels) now[m] = current_version(manager, m);
  const auto deadline = Clock::now() + limit;
  auto done = [&] {
    for (const auto& m : kModels)
      if (now[m] <= above.at(m)) return false;
    return true;
  };
  while (!done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    auto event = manager.next_event(left);
    if (!event) continue;
    if (const auto* v = events::verify(*event)->body_as_VersionPublished()) {
      auto& n = now[v->model()->str()];
      n = std::max(n, v->version());
    }
  }
  return true;
}

std::string read_text(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) throw std::runtime_error("cannot read " + path);
  char buf[256];
  std::string s;
  while (std::fgets(buf, sizeof buf, f)) s += buf;
  std::fclose(f);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

int run(const Options& o) {
  const std::string bin = program_dir();
  fedhub::testing::TempDir tmp;
  const std::string run = tmp.path();
  const std::string data = run + "/data";
  std::filesystem::create_directories(run + "/logs");
  const uint16_t port = fedhub::testing::free_port();
  write_file(run + "/hub.json", "{\"port\": " + std::to_string(port) + ", \"data_dir\": \"" + data +
                                    "\", \"upload_part_bytes\": 65536, \"threads\": 2}\n");
  const std::vector<std::string> hub_argv = {bin + "/fl-hub", "--config", run + "/hub.json"};
  std::printf(
      "crash_safety: seed %llu, %d kills, %d drivers x %d participants, models cm (manual, watch --merge-at "
      "3) and cb (buffered k=3) of %llu parameters, data %s\n",
      static_cast<unsigned long long>(o.seed), o.kills, o.drivers, o.participants,
      static_cast<unsigned long long>(o.params), data.c_str());
  std::fflush(stdout);
  std::mt19937_64 rng(o.seed);

  auto hub = std::make_unique<Proc>();
  hub->start(hub_argv, "listening on", 120);
  const std::string manager_key = read_text(data + "/manager.key");
  SystemConfig cfg(2);
  caf::actor_system system{cfg};
  auto manager = std::make_unique<HubClient>(system, "127.0.0.1", port, manager_key, std::chrono::seconds(60));
  const std::string staleness =
      R"("staleness":{"kind":"constant","max_staleness":)" + std::to_string(kMaxStaleness) + "}";
  create_dense_model(*manager, "cm", o.params, R"({"merge":"manual",)" + staleness + "}");
  create_dense_model(*manager, "cb", o.params, R"({"merge":"buffered","k":3,)" + staleness + "}");
  std::map<std::string, std::string> keys;
  std::vector<std::unique_ptr<Proc>> drivers;
  for (int d = 0; d < o.drivers; ++d) {
    std::vector<std::pair<std::string, std::string>> mine;
    for (int p = 0; p < o.participants; ++p) {
      std::string name = "p";  // (not "p" + to_string: GCC 12's false -Wrestrict)
      name += std::to_string(d) + "-" + std::to_string(p);
      Buffer holder;
      const std::string key =
          manager->call_as<fb::KeyCreated>(requests::add_key(manager->key(), name, fb::Role::participant), holder)
              ->key()
              ->str();
      keys[name] = key;
      mine.emplace_back(name, key);
    }
    const std::string kf = run + "/keys-" + std::to_string(d);
    write_keys(kf, mine);
    drivers.push_back(std::make_unique<Proc>());
    drivers.back()->start(
        {bin + "/fedhub-soak-driver", "upload", "--port", std::to_string(port), "--keys", kf, "--models", "cm,cb",
         "--params", std::to_string(o.params), "--log", run + "/logs/driver-" + std::to_string(d) + ".log", "--index",
         std::to_string(d * o.participants), "--seed", std::to_string(o.seed * 100 + d), "--reconnect", "180"},
        "driver: started", 60);
  }
  Proc watch;
  watch.start({bin + "/fl-manager", "--hub", "127.0.0.1:" + std::to_string(port), "--key-file", data + "/manager.key",
               "watch", "cm", "--merge-at", "3", "--reconnect", "600"},
              "watching", 60);

  Checker checker(o, run);
  const auto t_start = Clock::now();
  uint64_t kills_with_uploads_in_flight = 0;
  auto fail = [&](const std::string& why) {
    std::printf("crash_safety: FAILED: %s\n", why.c_str());
    std::fflush(stdout);
    throw std::runtime_error(why);
  };
  for (int k = 1; k <= o.kills; ++k) {
    // The random moment: a few more acknowledged uploads, then a random delay.
    auto count_acks = [&] {
      uint64_t n = 0;
      for (auto a : checker.acks_per_driver()) n += a;
      return n;
    };
    const uint64_t target = count_acks() + std::uniform_int_distribution<uint64_t>(3, 15)(rng);
    if (!wait_on_dir(run + "/logs", std::chrono::seconds(120), [&] { return count_acks() >= target; }))
      fail("no acknowledged uploads for 120 s before kill " + std::to_string(k));
    const auto delay_us = std::uniform_int_distribution<long>(0, 250000)(rng);
    struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&ts, nullptr);  // the kill's random moment (not a wait for anything)
    // What is in flight, read just before the kill (after it, the drivers
    // log their lost uploads at once).
    const uint64_t flying = in_flight(checker.entries());
    const int code = hub->stop(SIGKILL);
    const double t_kill = std::chrono::duration<double>(Clock::now() - t_start).count();
    kills_with_uploads_in_flight += flying > 0;
    manager.reset();
    std::string store_state;
    if (k % 2 == 1) store_state = "; store:" + inspect_store(data);
    std::printf("kill %d: at %.1f s (exit %d), %.3f s after the trigger, uploads in flight %llu%s\n", k, t_kill, code,
                static_cast<double>(delay_us) / 1e6, static_cast<unsigned long long>(flying), store_state.c_str());
    std::fflush(stdout);

    hub = std::make_unique<Proc>();
    hub->start(hub_argv, "listening on", 120);
    manager = std::make_unique<HubClient>(system, "127.0.0.1", port, manager_key, std::chrono::seconds(60));
    checker.check(*manager, system, port, keys, false);
    std::map<std::string, uint64_t> at_restart;
    for (const auto& m : kModels) at_restart[m] = checker.current(m);
    // Participants carry on: new acknowledgements from every driver, new
    // versions of both models.
    const auto before = checker.acks_per_driver();
    if (!wait_on_dir(run + "/logs", std::chrono::seconds(120), [&] {
          const auto now = checker.acks_per_driver();
          for (size_t d = 0; d < now.size(); ++d)
            if (now[d] <= before[d]) return false;
          return true;
        }))
      fail("a driver acknowledged nothing within 120 s after restart " + std::to_string(k));
    if (!wait_for_versions(*manager, at_restart, std::chrono::seconds(120)) && (watch.stop(SIGKILL), true))
      fail("no new version of every model within 120 s after restart " + std::to_string(k) + " (the watch's output:\n" +
           watch.out + ")");
    std::printf(
        "restart %d: checked: acknowledged %llu, lost %llu, listed but not acknowledged %llu, versions cm=%llu "
        "cb=%llu, duplicate re-uploads refused %llu, versions downloaded %llu; participants and merges go on\n",
        k, static_cast<unsigned long long>(checker.acknowledged()), static_cast<unsigned long long>(checker.lost()),
        static_cast<unsigned long long>(checker.extra()), static_cast<unsigned long long>(at_restart["cm"]),
        static_cast<unsigned long long>(at_restart["cb"]), static_cast<unsigned long long>(checker.duplicate_checks()),
        static_cast<unsigned long long>(checker.versions_downloaded()));
    std::fflush(stdout);
  }
  // The end: participants, then the watch stop; the last check with nothing running.
  for (auto& d : drivers) {
    const int code = d->stop(SIGTERM, std::chrono::seconds(120));
    std::string last;
    const auto at = d->out.rfind("driver: done");
    if (at != std::string::npos) last = d->out.substr(at, d->out.find('\n', at) - at);
    std::printf("%s (exit %d)\n", last.c_str(), code);
    if (code != 0) checker.violation("a driver ended with " + std::to_string(code) + ":\n" + d->out);
  }
  watch.stop(SIGTERM);
  checker.check(*manager, system, port, keys, true);
  manager.reset();
  const int hub_code = hub->stop(SIGTERM, std::chrono::seconds(120));
  if (hub_code != 0) checker.violation("fl-hub ended with " + std::to_string(hub_code) + ":\n" + hub->out);
  if (o.kills > 0 && checker.duplicate_checks() == 0)
    checker.violation("no re-upload of an acknowledged contribution was refused duplicate");
  if (o.kills > 0 && kills_with_uploads_in_flight == 0)
    checker.violation("no kill landed while uploads were in flight");
  std::printf(
      "crash_safety: kills %d acknowledged %llu lost %llu violations %llu versions cm=%llu cb=%llu "
      "kills_during_uploads %llu duplicate_checks %llu seed %llu\n",
      o.kills, static_cast<unsigned long long>(checker.acknowledged()), static_cast<unsigned long long>(checker.lost()),
      static_cast<unsigned long long>(checker.violations()), static_cast<unsigned long long>(checker.current("cm")),
      static_cast<unsigned long long>(checker.current("cb")),
      static_cast<unsigned long long>(kills_with_uploads_in_flight),
      static_cast<unsigned long long>(checker.duplicate_checks()), static_cast<unsigned long long>(o.seed));
  std::fflush(stdout);
  return checker.violations() == 0 && checker.lost() == 0 ? 0 : 1;
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
            "Usage: fedhub-crash-safety [--kills N] [--seed S] [--params P] [--drivers D] "
            "[--participants K]\n(tests/soak/crash_safety.cpp describes the test)\n");
        return 0;
      }
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      const std::string v = argv[++i];
      if (a == "--kills")
        o.kills = std::stoi(v);
      else if (a == "--seed")
        o.seed = std::stoull(v);
      else if (a == "--params")
        o.params = std::stoull(v);
      else if (a == "--drivers")
        o.drivers = std::stoi(v);
      else if (a == "--participants")
        o.participants = std::stoi(v);
      else
        throw std::invalid_argument("unknown option " + a);
    }
    if (o.kills < 0 || o.drivers < 1 || o.participants < 1) throw std::invalid_argument("bad counts");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fedhub-crash-safety: %s\n", e.what());
    return 2;
  }
  try {
    return run(o);
  } catch (const RequestError& e) {
    std::printf("crash_safety: error: %s\n", e.describe().c_str());
  } catch (const std::exception& e) {
    std::printf("crash_safety: error: %s\n", e.what());
  }
  return 1;
}
