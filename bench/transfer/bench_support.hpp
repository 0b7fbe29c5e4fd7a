// What the multi-process benchmarks (bench-transfer, bench-load) share:
// starting a real fl-hub and the bench's own participant processes, reading
// their memory from /proc, cleaning up on every way out, and the physical
// limits they are measured against in the same run (loopback TCP bandwidth,
// the disk's fdatasync bandwidth and synced-write rate).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fedhub::bench {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0);

// A progress line on stderr, prefixed with CLOCK_MONOTONIC seconds
// ("[t=1234.567] ..."), the clock `perf record -k CLOCK_MONOTONIC` stamps
// samples with: `perf report --time A,B` then shows one step.
void progress(const char* format, ...) __attribute__((format(printf, 1, 2)));

// ---------------------------------------------------------------- clean-up

// Installs handlers so that the tracked children are killed (SIGKILL) and
// the tracked directories removed when the process ends: normally (atexit),
// by an exception that reaches main (the owners' destructors), or on
// SIGINT, SIGTERM and SIGHUP. Children also get PR_SET_PDEATHSIG, so a
// bench killed with SIGKILL takes them with it (its temporary directories
// then stay behind: their names start with "fedhub-bench-").
void install_cleanup();

// A fresh directory `<parent>/<prefix>XXXXXX`, removed with everything in it
// by the destructor (and by the clean-up above).
class TempDir {
 public:
  TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------- processes

struct Child {
  pid_t pid = -1;
  int in = -1;   // the write end of its stdin, when piped
  int out = -1;  // the read end of its stdout, when piped
};

// Starts argv[0] with `argv` (fork + exec), tracked for clean-up. With a
// log file, its stdout and stderr go there and stdin is /dev/null; without,
// stdin and stdout are pipes (Child::in, Child::out) and stderr is ours.
Child spawn(const std::vector<std::string>& argv, const std::string& log_file = {});

// Waits up to `limit` for the child to end; its wait status, or nothing.
// The child is untracked once it has ended; *usage gets its rusage.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit, struct rusage* usage = nullptr);

// SIGTERM, up to `grace` to end, then SIGKILL; returns the wait status.
int stop_child(pid_t pid, std::chrono::milliseconds grace, struct rusage* usage = nullptr);

// "exit 0", "killed by signal 9".
std::string describe_status(int status);

// Lines from a pipe, with a timeout.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline; nothing at the end of the stream or
  // after `timeout` (eof() tells which).
  std::optional<std::string> next(std::chrono::milliseconds timeout);
  bool eof() const { return eof_; }

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// Writes all of `text` (throws std::runtime_error when the pipe is gone).
void write_all(int fd, std::string_view text);

// A field of /proc/PID/status in kB ("VmHWM", "VmRSS"); -1 when unreadable.
long proc_status_kb(pid_t pid, const char* field);
// User + system CPU seconds of a running process (/proc/PID/stat); -1 when
// unreadable.
double proc_cpu_seconds(pid_t pid);

// /proc/PID/io: bytes the process caused to be read from and written to
// storage, and written through write-like calls; all -1 when unreadable.
struct IoCounters {
  long long read_bytes = -1, write_bytes = -1, wchar = -1;
};
IoCounters proc_io(pid_t pid);

// This program's path (/proc/self/exe) and a program next to it.
std::string self_exe();
std::string sibling_program(const std::string& name);

// ---------------------------------------------------------------- the hub

// A real fl-hub process on a fresh data directory, listening on a free
// loopback port; stopped (SIGTERM, then SIGKILL after 60 s) by stop() or
// the destructor.
class HubProcess {
 public:
  // Starts `program --data-dir data_dir --port 0 [extra]` with stdout and
  // stderr in `log`, and waits (up to 120 s) for its "listening on" line.
  // Throws std::runtime_error with the log's tail when it does not come.
  HubProcess(const std::string& program, const std::string& data_dir, const std::string& log,
             const std::vector<std::string>& extra = {});
  ~HubProcess();
  HubProcess(const HubProcess&) = delete;
  HubProcess& operator=(const HubProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The first line of <data-dir>/manager.key.
  std::string manager_key() const;
  long peak_rss_kb() const { return proc_status_kb(pid_, "VmHWM"); }
  long rss_kb() const { return proc_status_kb(pid_, "VmRSS"); }
  double cpu_seconds() const { return proc_cpu_seconds(pid_); }
  IoCounters io() const { return proc_io(pid_); }
  // Whether it is still running.
  bool alive() const;
  // Stops it; its wait status (the first call's).
  int stop();
  // The last `bytes` of its log.
  std::string log_tail(size_t bytes = 2000) const;
  // The lines of its log other than the usual start and stop lines (the
  // manager key's file, "listening on", the signal): what it complained about.
  std::vector<std::string> unusual_log_lines() const;

 private:
  std::string data_dir_, log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool stopped_ = false;
  int status_ = 0;
};

// ---------------------------------------------------------------- limits

struct Rate {
  double best = 0, median = 0, worst = 0;
};

// Loopback TCP bandwidth in MB/s (1e6 bytes): one connection over
// 127.0.0.1, a sender thread writing `bytes` in `write_bytes` writes and a
// receiver thread reading them; `reps` runs.
Rate loopback_mb_s(uint64_t bytes, size_t write_bytes, int reps);

// The disk's synced write bandwidth in MB/s in `dir`'s filesystem: a new
// file, `bytes` written in `write_bytes` writes, fdatasync every `sync_every`
// bytes and at the end (timed up to the last fdatasync); `reps` runs.
Rate fdatasync_mb_s(const std::string& dir, uint64_t bytes, size_t write_bytes, uint64_t sync_every, int reps);

// Synced small writes per second in `dir`'s filesystem for `seconds` each:
// a 4 KiB pwrite + fdatasync in a loop, overwriting one block (no metadata to
// sync) and appending (the file grows, as a log does).
struct SyncRate {
  double overwrite = 0, append = 0;
  double best() const { return overwrite > append ? overwrite : append; }
};
SyncRate fsync_rate(const std::string& dir, double seconds);

// Bytes available to us in `dir`'s filesystem.
uint64_t free_bytes(const std::string& dir);
// The size of the files under `dir` (what they occupy on disk), in bytes.
uint64_t disk_usage(const std::string& dir);
// /proc/loadavg without its newline.
std::string load_average();

}  // namespace fedhub::bench
