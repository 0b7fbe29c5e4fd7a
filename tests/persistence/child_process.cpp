// Child processes of the persistence tests. A child is this test executable
// started again with FEDHUB_STORE_CHILD_* in its environment: a Boost.Test
// global fixture (which runs after static initialisation, before any test)
// sees them, does the child's work and exits without running a test.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "persistence/store.hpp"
#include "store_support.hpp"

extern char** environ;

namespace fedhub::test {

Buffer tagged_value(const std::string& tag, uint64_t index, size_t size) {
  std::string head = tag + "#" + std::to_string(index) + "|";
  Buffer b(std::max(size, head.size()));
  std::memcpy(b.data(), head.data(), head.size());
  for (size_t i = head.size(); i < b.size(); ++i) b[i] = static_cast<char>((index * 31 + i * 7) % 251);
  return b;
}

std::string participant_name(uint32_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "p%06u", i);
  return name;
}

size_t record_size(uint32_t i) { return 512 + (i * 977) % 24000; }

void write_iteration(Store& store, uint32_t i) {
  store.put_contribution("m", 0, participant_name(i), tagged_value("record", i, record_size(i)),
                         tagged_value("summary", i, 64));
  if (i % 3 == 0)
    store.commit_version("m", i, tagged_value("version", i, 4096), tagged_value("info", i, 48),
                         tagged_value("model", i, 80));
}

namespace {

void send_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(5);
    c += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

[[noreturn]] void run_child(const std::string& mode, const std::string& dir, int fd, int n) {
  if (mode == "open") {  // reports the outcome of one open on the pipe
    std::string outcome;
    try {
      Store::open(dir);
      outcome = "opened";
    } catch (const StoreError& e) {
      outcome = std::string("StoreError: ") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("other exception: ") + e.what();
    }
    send_all(fd, outcome.data(), outcome.size());
    ::_exit(0);
  }
  try {
    auto store = Store::open(dir);
    if (mode == "write") {
      for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
        write_iteration(*store, i);
        send_all(fd, &i, sizeof i);  // acknowledged: the writes returned
      }
      const uint32_t done = 0xffffffffu;
      send_all(fd, &done, sizeof done);
    } else if (mode == "hold") {
      send_all(fd, "R", 1);
    } else {
      std::fprintf(stderr, "unknown child mode '%s'\n", mode.c_str());
      ::_exit(4);
    }
    // Until the parent kills us, with the store open (it holds the LOCK).
    for (;;) ::pause();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store child (%s) failed: %s\n", mode.c_str(), e.what());
    ::_exit(3);
  }
}

Child spawn_child(const std::string& mode, const std::string& dir, int n) {
  char exe[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) throw std::runtime_error("readlink /proc/self/exe failed");
  exe[len] = '\0';
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  // Everything the child needs is prepared before fork (no allocation after).
  std::vector<std::string> env_strings = {"FEDHUB_STORE_CHILD_MODE=" + mode, "FEDHUB_STORE_CHILD_DIR=" + dir,
                                          "FEDHUB_STORE_CHILD_FD=" + std::to_string(fds[1]),
                                          "FEDHUB_STORE_CHILD_N=" + std::to_string(n)};
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "FEDHUB_STORE_CHILD_", 19) != 0) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg_color = "--color_output=no", arg_log = "--log_level=nothing", arg_report = "--report_level=no";
  char* argv[] = {exe, arg_color.data(), arg_log.data(), arg_report.data(), nullptr};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::fcntl(fds[1], F_SETFD, 0);  // the write end survives exec
    if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
    ::execve(exe, argv, envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (devnull >= 0) ::close(devnull);
  return {pid, fds[0]};
}

int kill_child(Child& c) {
  int status = 0;
  if (c.pid > 0) {
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, &status, 0);
    c.pid = -1;
  }
  if (c.fd >= 0) {
    ::close(c.fd);
    c.fd = -1;
  }
  return status;
}

}  // namespace fedhub::test

namespace {

struct ChildHook {
  ChildHook() {
    const char* mode = std::getenv("FEDHUB_STORE_CHILD_MODE");
    if (!mode) return;
    fedhub::test::run_child(mode, std::getenv("FEDHUB_STORE_CHILD_DIR"),
                            std::atoi(std::getenv("FEDHUB_STORE_CHILD_FD")),
                            std::atoi(std::getenv("FEDHUB_STORE_CHILD_N")));
  }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(ChildHook);
