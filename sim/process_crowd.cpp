#include "sim/process_crowd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "client/requests.hpp"
#include "datasets/source_spec.hpp"
#include "hub/merge_policy.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "sim/embedded_hub.hpp"
#include "sim/evaluation.hpp"
#include "sim/target.hpp"
#include "sim/virtual_clock.hpp"

extern char** environ;

namespace fedhub::sim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kFlag = "--participants-as-processes";
constexpr uint64_t kTraining = 3;                       // the draw stream of training seeds (as simulation.cpp)
constexpr int64_t kUnbounded = 1000000000;              // fl-participant's largest --rounds
constexpr auto kPoll = std::chrono::milliseconds(500);  // event waits between checks of the processes

[[noreturn]] void refuse(const std::string& field, const std::string& why) {
  std::string m = field;
  m += ": ";
  m += kFlag;
  m += " ";
  m += why;
  throw std::invalid_argument(m);
}

// Whether the source's classes are known by name (CLASSES can then name
// them), else source class i is model label i.
bool named_classes(const datasets::SourceSpec& spec, const std::string& labels_file) {
  if (spec.kind == "folder" || !labels_file.empty()) return true;
  if (spec.kind == "cifar") {
    std::error_code ec;
    const fs::path p(spec.path);
    const auto dir = fs::is_directory(p, ec) ? p : p.parent_path();
    return fs::exists(dir / "batches.meta.txt", ec);
  }
  return false;
}

std::string with_classes(const std::string& field, const std::string& source, const std::string& labels_file,
                         const std::vector<int32_t>& classes, const std::vector<std::string>& labels) {
  if (classes.empty()) return source;
  const auto spec = datasets::parse_source_spec(source);
  if (!spec.classes.empty())
    refuse(field,
           "cannot add classes to a data source that keeps classes already (" + source + "): give them in one place");
  const bool by_name = named_classes(spec, labels_file);
  std::string list;
  for (const auto c : classes) {
    std::string token = std::to_string(c);
    if (by_name) {
      token = labels.at(static_cast<size_t>(c));
      if (token.find_first_of(",:") != std::string::npos)
        refuse(field, "cannot name label '" + token + "' in a data source string (it holds ',' or ':')");
    }
    if (!list.empty()) list += ",";
    list += token;
  }
  std::string out = spec.kind;
  out += ":";
  out += spec.path;
  out += ":";
  out += list;
  return out;
}

std::string tail_of(const std::string& path, size_t lines = 15) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string l; std::getline(in, l);) {
    last.push_back(l);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) {
    out += "\n  | ";
    out += l;
  }
  return out.empty() ? std::string("\n  | (empty log)") : out;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// The participant processes: started with posix_spawn, reaped without
// blocking while the run goes on, and on every way out killed and reaped.
class Processes {
 public:
  struct Process {
    std::string name;
    std::string log;
    pid_t pid = -1;
    bool reaped = false;
    bool stopped = false;  // we sent it SIGTERM at the end
    int status = 0;
  };

  Processes() = default;
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;
  ~Processes() { kill_all(); }

  // SIGKILL to every process still running, and reaps them.
  void kill_all() {
    for (auto& p : procs_)
      if (!p.reaped) {
        p.stopped = true;
        ::kill(p.pid, SIGKILL);
      }
    for (auto& p : procs_) reap(p, true);
  }

  void start(const std::string& name, const std::vector<std::string>& argv, const std::string& key,
             const std::string& log) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + log + ": " + std::strerror(errno));
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "FEDHUB_KEY=", 11) != 0) env.emplace_back(*e);
    env.push_back("FEDHUB_KEY=" + key);
    auto c = [](const std::vector<std::string>& v) {
      std::vector<char*> out;
      for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
      out.push_back(nullptr);
      return out;
    };
    auto args = c(argv);
    auto envp = c(env);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fd);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    procs_.push_back({name, log, pid});
  }

  // Reaps the processes that ended. Throws std::runtime_error for one that
  // ended on its own with a non-zero status.
  void check() {
    for (auto& p : procs_) {
      reap(p, false);
      if (p.reaped && !p.stopped && p.status != 0)
        throw std::runtime_error("participant process '" + p.name + "' (pid " + std::to_string(p.pid) + ") ended (" +
                                 describe_status(p.status) + "); the end of " + p.log + ":" + tail_of(p.log));
    }
  }

  bool all_ended() const {
    return std::all_of(procs_.begin(), procs_.end(), [](const Process& p) { return p.reaped; });
  }

  // With `let_end`, first gives the processes `limit` to end by themselves
  // (each has made its last contribution). Then SIGTERM to every process
  // still running, and reaps them: those that do not end within `limit` get
  // SIGKILL. Throws as check() does for one that failed on its own.
  void stop(std::chrono::milliseconds limit, bool let_end) {
    if (let_end) {
      const auto deadline = Clock::now() + limit;
      for (auto& p : procs_) {
        if (p.reaped) continue;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (wait_for_exit(p.pid, std::max<int64_t>(0, left.count()))) reap(p, true);
      }
    }
    check();
    for (auto& p : procs_)
      if (!p.reaped) {
        p.stopped = true;
        ::kill(p.pid, SIGTERM);
      }
    const auto deadline = Clock::now() + limit;
    for (auto& p : procs_) {
      if (p.reaped) continue;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!wait_for_exit(p.pid, std::max<int64_t>(0, left.count()))) ::kill(p.pid, SIGKILL);
      reap(p, true);
    }
  }

  // NAME PID HOW, one line each.
  void write_table(const std::string& path) const {
    std::ofstream out(path);
    for (const auto& p : procs_)
      out << p.name << " " << p.pid << " "
          << (!p.reaped   ? std::string("running")
              : p.stopped ? "stopped (" + describe_status(p.status) + ")"
                          : "ended (" + describe_status(p.status) + ")")
          << "\n";
  }

 private:
  static void reap(Process& p, bool block) {
    if (p.reaped) return;
    for (;;) {
      const pid_t r = ::waitpid(p.pid, &p.status, block ? 0 : WNOHANG);
      if (r == p.pid) {
        p.reaped = true;
        return;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) p.reaped = true;  // not our child any more: nothing to wait for
      return;
    }
  }

  // Waits up to `ms` for the process to end (without reaping it); true when
  // it did. A pidfd makes the wait a poll instead of a sleep loop.
  static bool wait_for_exit(pid_t pid, int64_t ms) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return false;  // no pidfd: SIGKILL at once
    pollfd pfd{fd, POLLIN, 0};
    int r;
    do {
      r = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    } while (r < 0 && errno == EINTR);
    ::close(fd);
    return r > 0;
  }

  std::vector<Process> procs_;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

void check_process_scenario(const Scenario& s) {
  if (s.virtual_seconds > 0)
    refuse("run.virtual_seconds", "runs in real time: bound the run with run.rounds (virtual_seconds 0)");
  for (size_t g = 0; g < s.participants.size(); ++g) {
    const auto& group = s.participants[g];
    const std::string at = "participants[" + std::to_string(g) + "]";
    const auto& p = group.partition;
    if (p.kind != PartitionSpec::Kind::shared)
      refuse(at + ".partition", "needs kind shared (each process loads its own source)");
    if (p.samples != 0)
      refuse(at + ".partition.samples", "needs 0 (each process loads its whole source; cut it with classes)");
    if (group.behaviour != "honest")
      refuse(at + ".behaviour", "runs honest fl-participant processes only, not '" + group.behaviour + "'");
    if (group.samples_per_round != 0)
      refuse(at + ".samples_per_round", "needs 0 (the processes train with the recipe's samples_per_round)");
    if (group.speed != 1) refuse(at + ".speed", "needs 1: real processes run at the machine's speed");
    if (group.speed_max > group.speed)
      refuse(at + ".speed_max", "cannot spread speeds: real processes run at the machine's speed");
    if (group.jitter != 0) refuse(at + ".jitter", "needs 0: real processes run at the machine's speed");
    if (group.dropout != 0) refuse(at + ".dropout", "needs 0: fl-participant processes do not sit versions out");
  }
}

std::vector<ProcessParticipant> process_participants(const Scenario& s, uint64_t seed,
                                                     const std::function<std::string(const std::string&)>& resolve) {
  check_process_scenario(s);
  std::vector<ProcessParticipant> out;
  for (size_t g = 0; g < s.participants.size(); ++g) {
    const auto& group = s.participants[g];
    const std::string at = "participants[" + std::to_string(g) + "]";
    const auto& p = group.partition;
    const auto& src = s.data.at(group.data);
    const auto source =
        with_classes(at + ".partition.classes", resolve(src.source), src.labels_file, p.classes, s.labels);
    for (int i = 0; i < group.count; ++i) {
      ProcessParticipant m;
      m.name = group.count == 1 ? group.name : group.name + "-" + std::to_string(i + 1);
      m.source = source;
      m.labels_file = src.labels_file;
      m.seed = static_cast<uint64_t>(draw(seed, out.size(), 0, kTraining) * 0x1p53) + 1;
      out.push_back(std::move(m));
    }
  }
  return out;
}

std::vector<VersionResult> run_with_processes(caf::actor_system& system, const ProcessCrowdOptions& o,
                                              const std::vector<ProcessParticipant>& participants,
                                              const EvaluationSets& sets,
                                              const std::function<void(const VersionResult&)>& on_result,
                                              Buffer* last_package) {
  const auto& so = o.simulation;
  if (participants.empty()) throw std::invalid_argument("processes: no participants");
  if (sets.empty()) throw std::invalid_argument("processes: no evaluation set");
  if (so.versions < 1) throw std::invalid_argument("processes: versions must be >= 1");
  if (::access(o.program.c_str(), X_OK) != 0)
    throw std::invalid_argument("processes: cannot run the participant program '" + o.program +
                                "' (fl-participant, built beside fl-sim)");
  if (o.logs_dir.empty()) throw std::invalid_argument("processes: no folder for the processes' logs");
  const auto policy = MergePolicy::from_json(so.policy_json);  // throws
  const bool manual = policy.merge == MergeMode::manual;
  const auto start = Clock::now();
  fs::create_directories(o.logs_dir);

  EmbeddedHub hub(system, so.hub);
  const uint16_t port = hub.publish(0, "127.0.0.1");
  auto manager = hub.client(hub.manager_key());
  create_simulated_model(*manager, so);

  std::vector<VersionResult> results;
  auto evaluate = [&](uint64_t version, double published_at) {
    Buffer bytes = manager->download_package(so.model, static_cast<int64_t>(version));
    const auto package = read_model_package(bytes);
    if (last_package) *last_package = std::move(bytes);
    VersionResult r;
    r.version = version;
    r.virtual_s = published_at;
    for (const auto& set : sets)
      r.per_set.push_back(training::evaluate(package.spec.architecture, package.weights, *set.second, so.threads));
    r.overall = combine(r.per_set);
    r.wall_s = seconds_since(start);
    return r;
  };
  auto publish_result = [&](VersionResult r) {
    results.push_back(std::move(r));
    if (on_result) on_result(results.back());
  };
  publish_result(evaluate(0, 0));

  // With manual merges after every participant's contribution, each process
  // contributes exactly once per version: it stops by itself after the last.
  // Otherwise versions and contributions do not match one to one: the
  // processes go on until they are stopped.
  const bool exact = manual && so.merge_at == 0;
  const std::string rounds = std::to_string(exact ? static_cast<int64_t>(so.versions) : kUnbounded);
  Processes procs;
  for (const auto& p : participants) {
    const auto key = hub.add_key(p.name, fb::Role::participant);
    std::vector<std::string> argv{o.program,     "run",    "--hub",  "127.0.0.1:" + std::to_string(port),
                                  "--model",     so.model, "--data", p.source,
                                  "--rounds",    rounds,   "--seed", std::to_string(p.seed),
                                  "--reconnect", "0",      "--quiet"};
    if (!p.labels_file.empty()) {
      argv.emplace_back("--data-labels");
      argv.push_back(p.labels_file);
    }
    procs.start(p.name, argv, key, (fs::path(o.logs_dir) / (p.name + ".log")).string());
  }

  uint64_t current = 0;
  auto status = [&](Buffer& holder) {
    return manager->call_as<fb::ModelStatus>(requests::status(manager->key(), so.model, -1), holder)->summary();
  };
  // Manual merges: when every participant (or merge_at) has contributed to
  // the current version. True when it started one.
  auto merge_if_ready = [&] {
    if (!manual) return false;
    Buffer holder;
    const auto* s = status(holder);
    if (s->merging() || s->current_version() != current) return false;
    const uint32_t waiting = s->pending_contributions();
    const uint32_t needed =
        so.merge_at > 0 ? so.merge_at
                        : std::max<uint32_t>({1, so.min_contributions, static_cast<uint32_t>(participants.size())});
    if (waiting < needed) return false;
    manager->call(requests::merge(manager->key(), so.model, current));
    return true;
  };
  auto reached = [&] { return reached_target(results, so.stop_at_accuracy, so.stop_window); };
  auto deadline = Clock::now() + o.version_timeout;
  bool look = true;  // something happened: see whether to merge
  try {
    while (results.size() - 1 < so.versions && !reached()) {
      if (look) merge_if_ready();
      look = false;
      if (auto e = manager->next_event(kPoll)) {
        look = true;
        const auto* v = events::verify(*e)->body_as_VersionPublished();
        if (!v || v->version() <= current) continue;
        const double at = seconds_since(start);
        current = v->version();
        auto r = evaluate(current, at);
        double staleness = 0;
        if (v->contributions())
          for (const auto* c : *v->contributions()) {
            ++r.contributions;
            staleness += static_cast<double>(c->staleness());
            r.max_staleness = std::max<uint64_t>(r.max_staleness, c->staleness());
          }
        if (r.contributions) r.mean_staleness = staleness / r.contributions;
        publish_result(std::move(r));
        deadline = Clock::now() + o.version_timeout;
        continue;
      }
      procs.check();  // throws for a failed process
      if (procs.all_ended() && !merge_if_ready()) {
        Buffer holder;
        const auto* s = status(holder);
        if (!s->merging() && s->current_version() <= current)
          throw std::runtime_error("every participant process ended before version " + std::to_string(current + 1) +
                                   " was made (logs in " + o.logs_dir + ")");
      }
      if (Clock::now() > deadline)
        throw std::runtime_error("no version after " + std::to_string(current) + " within " +
                                 std::to_string(o.version_timeout.count() / 1000) + " s (logs in " + o.logs_dir + ")");
    }
    procs.stop(o.stop_timeout, exact && !reached());
  } catch (...) {
    procs.kill_all();
    procs.write_table((fs::path(o.logs_dir) / "processes.txt").string());
    throw;
  }
  procs.write_table((fs::path(o.logs_dir) / "processes.txt").string());
  return results;
}

}  // namespace fedhub::sim
