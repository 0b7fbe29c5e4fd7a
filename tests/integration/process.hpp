// Real child processes for integration tests: run a program to completion, or
// start one (a hub) and read its output line by line as it comes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace fedhub::testing {

struct RunResult {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

// A port nothing listens on right now (the kernel's choice for port 0).
uint16_t free_port();

// Runs argv[0] (a path) with the arguments, feeding it `input` on standard
// input, and waits for it to end.
RunResult run(const std::vector<std::string>& argv, const std::string& input = {});

// A process whose standard output is read line by line (stderr is appended
// to the same pipe).
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();  // SIGKILLs and reaps the process if it still runs
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Blocks until a line containing `text` arrives; returns it. Throws
  // std::runtime_error with everything read when the output ends first.
  std::string wait_for_line(const std::string& text);

  // Reads the rest of the output until the process closes it.
  std::string read_rest();

  void signal(int sig);
  // Waits for the process to end; returns its exit code (or 128 + signal).
  int wait();
  // The same, but gives up after `limit` (a failure guard: the process is
  // then SIGKILLed and std::runtime_error says it did not end).
  int wait_at_most(std::chrono::milliseconds limit);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
  std::string seen_;
  bool reaped_ = false;
  int status_ = 0;
};

// Runs a command to its end, killed after `seconds` (timeout(1) exits 124
// then); throws std::runtime_error naming the command when it did not end.
RunResult run_bounded(std::vector<std::string> argv, int seconds = 30);

// Child::wait_for_line with a deadline: a watchdog SIGKILLs the process when
// the line has not come in time, which ends its output (and the wait, with
// std::runtime_error).
std::string wait_line(Child& child, const std::string& text, std::chrono::seconds limit = std::chrono::seconds(30));

}  // namespace fedhub::testing
