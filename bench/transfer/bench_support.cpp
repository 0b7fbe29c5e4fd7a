#include "bench/transfer/bench_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fedhub::bench {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void progress(const char* format, ...) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  char text[4096];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  std::fprintf(stderr, "[t=%.3f] %s", static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9, text);
}

namespace {

[[noreturn]] void fail_errno(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// ---------------------------------------------------------------- clean-up

constexpr int kMaxTracked = 64;
std::atomic<pid_t> g_children[kMaxTracked];
// Directories: fixed slots too, so that the signal handler never sees a
// vector being resized. Each slot holds a strdup'ed path or nullptr.
std::atomic<char*> g_dirs[kMaxTracked];

void track_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void untrack_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void track_dir(const std::string& path) {
  char* copy = strdup(path.c_str());
  for (auto& slot : g_dirs) {
    char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, copy)) return;
  }
  std::free(copy);
}

void untrack_dir(const std::string& path) {
  for (auto& slot : g_dirs) {
    char* p = slot.load();
    if (p && path == p && slot.compare_exchange_strong(p, nullptr)) {
      std::free(p);
      return;
    }
  }
}

void kill_children() {
  for (auto& slot : g_children) {
    const pid_t pid = slot.exchange(0);
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
}

void remove_dirs() {
  for (auto& slot : g_dirs) {
    char* p = slot.exchange(nullptr);
    if (!p) continue;
    std::error_code ec;
    std::filesystem::remove_all(p, ec);  // not async-signal-safe; the process ends right after
  }
}

void on_signal(int sig) {
  kill_children();
  remove_dirs();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void install_cleanup() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  std::atexit([] {
    kill_children();
    remove_dirs();
  });
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
  std::signal(SIGPIPE, SIG_IGN);  // a child gone: write_all() throws instead
}

TempDir::TempDir(const std::string& parent, const std::string& prefix) {
  std::string pattern = (std::filesystem::path(parent) / (prefix + "XXXXXX")).string();
  if (!mkdtemp(pattern.data())) fail_errno("cannot create a temporary directory under '" + parent + "'");
  path_ = pattern;
  track_dir(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  untrack_dir(path_);
}

// ---------------------------------------------------------------- processes

Child spawn(const std::vector<std::string>& argv, const std::string& log_file) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  int log_fd = -1;
  if (log_file.empty()) {
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) fail_errno("pipe");
  } else {
    log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) fail_errno("cannot open '" + log_file + "'");
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) std::signal(sig, SIG_DFL);  // not our clean-up
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (log_fd >= 0) {
      const int null_fd = open("/dev/null", O_RDONLY);
      dup2(null_fd, 0);
      dup2(log_fd, 1);
      dup2(log_fd, 2);
    } else {
      dup2(in[0], 0);
      dup2(out[1], 1);
    }
    execv(args[0], args.data());
    const char msg[] = "bench: exec failed\n";
    [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  track_child(pid);
  Child c;
  c.pid = pid;
  if (log_fd >= 0) {
    close(log_fd);
  } else {
    close(in[0]);
    close(out[1]);
    c.in = in[1];
    c.out = out[0];
  }
  return c;
}

std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit, struct rusage* usage) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    int status = 0;
    struct rusage ru {};
    const pid_t r = wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) {
      untrack_child(pid);
      if (usage) *usage = ru;
      return status;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;  // not our child (any more)
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int stop_child(pid_t pid, std::chrono::milliseconds grace, struct rusage* usage) {
  kill(pid, SIGTERM);
  if (auto s = wait_for(pid, grace, usage)) return *s;
  kill(pid, SIGKILL);
  if (auto s = wait_for(pid, std::chrono::seconds(30), usage)) return *s;
  return -1;
}

std::string describe_status(int status) {
  if (status < 0) return "not reaped";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::optional<std::string> LineReader::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) return std::nullopt;
      std::string line;
      line.swap(buffer_);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno != EINTR) fail_errno("poll");
    if (r <= 0) continue;
    char chunk[65536];
    const ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno != EINTR && errno != EAGAIN) fail_errno("read");
    if (n == 0) eof_ = true;
    if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write to a child");
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

long proc_status_kb(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(f, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream rest(line.substr(prefix.size()));
      long v = -1;
      rest >> v;
      return v;
    }
  }
  return -1;
}

double proc_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  // Fields after the name: state(3) ... utime(14) stime(15).
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

IoCounters proc_io(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/io");
  IoCounters c;
  std::string name;
  long long v = 0;
  while (f >> name >> v) {
    if (name == "read_bytes:") c.read_bytes = v;
    if (name == "write_bytes:") c.write_bytes = v;
    if (name == "wchar:") c.wchar = v;
  }
  return c;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  return p.string();
}

std::string sibling_program(const std::string& name) {
  return (std::filesystem::path(self_exe()).parent_path() / name).string();
}

// ---------------------------------------------------------------- the hub

HubProcess::HubProcess(const std::string& program, const std::string& data_dir, const std::string& log,
                       const std::vector<std::string>& extra)
    : data_dir_(data_dir), log_(log) {
  if (access(program.c_str(), X_OK) != 0)
    throw std::runtime_error("no hub program at '" + program + "' (build the fl-hub target)");
  std::vector<std::string> argv = {program, "--data-dir", data_dir, "--port", "0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid_ = spawn(argv, log).pid;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  const std::string marker = "listening on ";
  while (Clock::now() < deadline) {
    std::ifstream f(log_);
    std::string line;
    while (std::getline(f, line)) {
      const auto at = line.find(marker);
      if (at == std::string::npos) continue;
      const auto colon = line.find(':', at + marker.size());
      if (colon != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
        return;
      }
    }
    if (!alive()) {
      stop();
      throw std::runtime_error("fl-hub ended before listening (" + describe_status(status_) + "); its log:\n" +
                               log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop();
  throw std::runtime_error("fl-hub did not print 'listening on' within 120 s; its log:\n" + log_tail());
}

HubProcess::~HubProcess() { stop(); }

bool HubProcess::alive() const {
  if (stopped_) return false;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

int HubProcess::stop() {
  if (stopped_) return status_;
  stopped_ = true;
  status_ = stop_child(pid_, std::chrono::seconds(60));
  return status_;
}

std::string HubProcess::manager_key() const {
  const auto path = (std::filesystem::path(data_dir_) / "manager.key").string();
  std::ifstream f(path);
  std::string key;
  std::getline(f, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (key.empty()) throw std::runtime_error("no manager key in '" + path + "'");
  return key;
}

std::string HubProcess::log_tail(size_t bytes) const {
  std::ifstream f(log_);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

std::vector<std::string> HubProcess::unusual_log_lines() const {
  std::ifstream f(log_);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    if (line.empty() || line.find("created a manager key") != std::string::npos ||
        line.find("listening on") != std::string::npos || line.find("shutting down") != std::string::npos)
      continue;
    out.push_back(line);
  }
  return out;
}

// ---------------------------------------------------------------- limits

namespace {

Rate rate_of(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  Rate r;
  if (samples.empty()) return r;
  r.best = samples.back();
  r.median = samples[samples.size() / 2];
  r.worst = samples.front();
  return r;
}

void fill_bytes(std::vector<char>& b, uint64_t seed) {
  uint64_t z = seed;
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    z += 0x9E3779B97F4A7C15ull;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    std::memcpy(b.data() + i, &x, 8);
  }
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

double one_loopback_run(uint64_t bytes, size_t write_bytes) {
  Fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.fd < 0) fail_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail_errno("bind");
  if (listen(listener.fd, 1) != 0) fail_errno("listen");
  socklen_t len = sizeof addr;
  if (getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail_errno("getsockname");
  Fd sender(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (connect(sender.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail_errno("connect");
  Fd receiver(accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC));
  if (receiver.fd < 0) fail_errno("accept");
  std::vector<char> out(write_bytes);
  fill_bytes(out, 42);
  std::atomic<bool> failed{false};
  std::thread reader([&] {
    std::vector<char> in(write_bytes);
    uint64_t got = 0;
    while (got < bytes) {
      const ssize_t n = read(receiver.fd, in.data(), in.size());
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        failed = true;
        return;
      }
      got += static_cast<uint64_t>(n);
    }
  });
  const auto t0 = Clock::now();
  uint64_t sent = 0;
  while (sent < bytes && !failed) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(write_bytes, bytes - sent));
    const ssize_t n = write(sender.fd, out.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed = true;
      break;
    }
    sent += static_cast<uint64_t>(n);
  }
  reader.join();
  const double s = seconds_since(t0);
  if (failed) throw std::runtime_error("the loopback probe's connection failed");
  return static_cast<double>(bytes) / s / 1e6;
}

double one_fdatasync_run(const std::string& dir, uint64_t bytes, size_t write_bytes, uint64_t sync_every) {
  std::string path = (std::filesystem::path(dir) / "fedhub-bench-sync.XXXXXX").string();
  Fd f(mkostemp(path.data(), O_CLOEXEC));
  if (f.fd < 0) fail_errno("cannot create a file in '" + dir + "'");
  std::vector<char> out(write_bytes);
  fill_bytes(out, 7);
  const auto t0 = Clock::now();
  uint64_t written = 0, since_sync = 0;
  bool ok = true;
  while (written < bytes && ok) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(write_bytes, bytes - written));
    const ssize_t n = write(f.fd, out.data(), want);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      ok = false;
      break;
    }
    written += static_cast<uint64_t>(n);
    since_sync += static_cast<uint64_t>(n);
    if (since_sync >= sync_every) {
      if (fdatasync(f.fd) != 0) ok = false;
      since_sync = 0;
    }
  }
  if (ok && fdatasync(f.fd) != 0) ok = false;
  const double s = seconds_since(t0);
  const int saved = errno;
  unlink(path.c_str());
  errno = saved;
  if (!ok) fail_errno("the fdatasync probe's write to '" + dir + "' failed");
  return static_cast<double>(bytes) / s / 1e6;
}

double sync_loop(int fd, double seconds, bool append) {
  std::vector<char> block(4096);
  fill_bytes(block, 3);
  const auto t0 = Clock::now();
  uint64_t n = 0;
  while (seconds_since(t0) < seconds) {
    const off_t at = append ? static_cast<off_t>(n * 4096) : 0;
    if (pwrite(fd, block.data(), block.size(), at) != static_cast<ssize_t>(block.size()))
      fail_errno("the sync probe's pwrite");
    if (fdatasync(fd) != 0) fail_errno("the sync probe's fdatasync");
    ++n;
  }
  return static_cast<double>(n) / seconds_since(t0);
}

}  // namespace

Rate loopback_mb_s(uint64_t bytes, size_t write_bytes, int reps) {
  std::vector<double> runs;
  for (int i = 0; i < reps; ++i) runs.push_back(one_loopback_run(bytes, write_bytes));
  return rate_of(runs);
}

Rate fdatasync_mb_s(const std::string& dir, uint64_t bytes, size_t write_bytes, uint64_t sync_every, int reps) {
  std::vector<double> runs;
  for (int i = 0; i < reps; ++i) runs.push_back(one_fdatasync_run(dir, bytes, write_bytes, sync_every));
  return rate_of(runs);
}

SyncRate fsync_rate(const std::string& dir, double seconds) {
  SyncRate r;
  for (bool append : {false, true}) {
    std::string path = (std::filesystem::path(dir) / "fedhub-bench-fsync.XXXXXX").string();
    Fd f(mkostemp(path.data(), O_CLOEXEC));
    if (f.fd < 0) fail_errno("cannot create a file in '" + dir + "'");
    try {
      // The overwritten block exists and is synced before the loop starts.
      if (!append) sync_loop(f.fd, 0.05, false);
      (append ? r.append : r.overwrite) = sync_loop(f.fd, seconds, append);
    } catch (...) {
      unlink(path.c_str());
      throw;
    }
    unlink(path.c_str());
  }
  return r;
}

uint64_t free_bytes(const std::string& dir) {
  struct statvfs s {};
  if (statvfs(dir.c_str(), &s) != 0) fail_errno("statvfs '" + dir + "'");
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

uint64_t disk_usage(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string line;
  std::getline(f, line);
  return line;
}

}  // namespace fedhub::bench
