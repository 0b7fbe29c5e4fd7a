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
#include <mutex>
#include <thread>
#include <vector>

#include "persistence/store.hpp"
#include "store_support.hpp"

extern char** environ;

namespace fedhub::test {

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

bool read_exact(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

[[noreturn]] void run_child(const std::string& mode, const std::string& dir, int fd, int n) {
  try {
    auto store = Store::open(dir);
    if (mode == "write") {
      for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
        write_iteration(*store, i);
        send_all(fd, &i, sizeof i);  // acknowledged: the commit returned
      }
      const uint32_t done = 0xffffffffu;
      send_all(fd, &done, sizeof done);
    } else if (mode == "unsynced") {
      for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i)
        commit_one(
            *store, [&](StoreBatch& b) { b.put_key(named("u", i), tagged_value("u", i, 100 + i)); }, false);
      store->sync_wal();
      send_all(fd, "S", 1);
    } else if (mode == "threads") {
      std::mutex pipe;  // one 8-byte message at a time
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
          for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
            store->commit(thread_batch(t, i), true);
            const uint32_t msg[2] = {static_cast<uint32_t>(t), i};
            std::lock_guard<std::mutex> lock(pipe);
            send_all(fd, msg, sizeof msg);
          }
        });
      for (auto& th : threads) th.join();
    } else if (mode == "unlogged") {
      // Chunks written without the log, then a synced record that persists them first.
      for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
        StoreBatch chunk;
        chunk.put_chunk("m", 7, uint64_t{i} * 4096, std::string(4096, static_cast<char>('a' + i % 26)));
        store->write_unlogged(chunk);
      }
      StoreBatch record;
      record.persist_first(Family::chunks);
      record.put_key("record", tagged_value("r", 0, 1));
      store->commit(record, true);
      // Written without the log and never persisted: a crash may lose it.
      StoreBatch lost;
      lost.put_chunk("m", 8, 0, std::string(4096, 'z'));
      store->write_unlogged(lost);
      send_all(fd, "S", 1);
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
