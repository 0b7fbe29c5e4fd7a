// Helpers of the persistence tests: temporary directories, values with a
// recognisable content, and child processes that use a store (see
// child_process.cpp).
#pragma once

#include "support/temp_dir.hpp"

#include <stdlib.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "messages/buffer.hpp"
#include "persistence/store.hpp"

namespace fedhub::test {

using TempDir = fedhub::testing::TempDir;

inline bool is_aligned_16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// A value of `size` bytes that starts with "<tag>#<index>|" and continues
// with a pattern derived from the index, so that any mix-up shows.
Buffer tagged_value(const std::string& tag, uint64_t index, size_t size);

// A child process running this test binary in a mode of child_process.cpp,
// with a pipe from it.
struct Child {
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe
};

// Starts this executable again (fork + exec, so the child is a fresh process
// without the parent's RocksDB threads) in `mode`:
//   "write": opens the store in `dir` and does `n` iterations of synced
//            writes (write_iteration), sending each finished index as a
//            uint32 on the pipe; then waits to be killed.
//   "hold":  opens the store in `dir`, sends 'R' and waits to be killed.
//   "open":  opens and closes the store in `dir`, sends "opened" or
//            "StoreError: <message>" and exits 0.
Child spawn_child(const std::string& mode, const std::string& dir, int n = 0);

// Kills (SIGKILL) and reaps a child; returns its wait status.
int kill_child(Child& c);

// The writes of iteration i of the "write" child: a contribution of
// participant participant_name(i) to model "m", base 0; and on every third
// iteration version i of "m" (weights, info and model record "model:<i>").
void write_iteration(Store& store, uint32_t i);
std::string participant_name(uint32_t i);
// The body of a child process (never returns).
[[noreturn]] void run_child(const std::string& mode, const std::string& dir, int fd, int n);
size_t record_size(uint32_t i);

}  // namespace fedhub::test
