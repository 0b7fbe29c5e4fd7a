// Helpers of the persistence tests: temporary directories, values with a
// recognisable content, a raw RocksDB handle on a store's directory (to make
// the directories of older or newer hubs, or to damage one), and child
// processes that use a store (see child_process.cpp).
#pragma once

#include <rocksdb/db.h>
#include <stdlib.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "messages/buffer.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"

namespace fedhub::test {

using TempDir = fedhub::testing::TempDir;

inline bool is_aligned_16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

inline std::span<const char> bytes(const std::string& s) { return {s.data(), s.size()}; }
inline std::string as_string(const Buffer& b) { return std::string(b.begin(), b.end()); }
inline std::string as_string(const std::optional<Buffer>& b) { return b ? as_string(*b) : "<none>"; }
// prefix followed by n in decimal ("p" + std::to_string(n) draws a false
// -Wrestrict from GCC 12).
inline std::string named(std::string prefix, uint64_t n) {
  prefix += std::to_string(n);
  return prefix;
}

// A value of `size` bytes that starts with "<tag>#<index>|" (as much of it
// as fits) and continues with a pattern derived from the index and the
// position, so that any mix-up or shift shows.
Buffer tagged_value(const std::string& tag, uint64_t index, size_t size);

// Commits one batch built by `fill` (synced).
template <class Fill>
void commit_one(Store& store, Fill&& fill, bool sync = true) {
  StoreBatch b;
  fill(b);
  store.commit(b, sync);
}

// The whole package of a stored version, through read_version (nothing when
// it is not stored).
std::optional<Buffer> read_whole_version(const Store& store, const std::string& name, uint64_t version, size_t size);

// A store's directory opened with RocksDB directly, with all its families
// (the store must be closed).
class RawDb {
 public:
  explicit RawDb(const std::string& dir);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  rocksdb::DB& db() { return *db_; }
  // The handle of a family (throws when the directory has none).
  rocksdb::ColumnFamilyHandle* family(const std::string& name) const;
  bool has_family(const std::string& name) const;
  std::vector<std::string> family_names() const { return names_; }
  rocksdb::ColumnFamilyHandle* create_family(const std::string& name);
  std::optional<std::string> get(const std::string& family, const std::string& key);
  void put(const std::string& family, const std::string& key, const std::string& value);
  void erase(const std::string& family, const std::string& key);
  // Every key of a family, in order.
  std::vector<std::string> keys(const std::string& family);

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Bytes allocated on disk under a directory (what `du` counts).
uint64_t disk_bytes(const std::string& dir);
// Files under a directory whose name ends with `suffix`.
size_t count_files(const std::string& dir, const std::string& suffix);

// ---- child processes

// A child process running this test binary in a mode of child_process.cpp,
// with a pipe from it.
struct Child {
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe
};

// Starts this executable again (fork + exec, so the child is a fresh process
// without the parent's RocksDB threads) in `mode`:
//   "write":    opens the store in `dir` and commits iterations 0..n-1 of
//               write_iteration (synced), sending each finished index as a
//               uint32 on the pipe (0xffffffff after the last); then waits
//               to be killed.
//   "unsynced": commits n batches with sync = false (put_key "u<i>"), then
//               calls sync_wal() and sends 'S'; then waits to be killed.
//   "threads":  kThreads threads each commit n synced batches (thread_batch)
//               at once, each sending (thread, index) as two uint32 after
//               its commit returned; then waits to be killed.
//   "hold":     opens the store in `dir`, sends 'R' and waits to be killed.
Child spawn_child(const std::string& mode, const std::string& dir, int n = 0);

// Kills (SIGKILL) and reaps a child; returns its wait status.
int kill_child(Child& c);
// Reads exactly n bytes from the pipe; false at its end.
bool read_exact(int fd, void* p, size_t n);

// ---- what the "write" child writes: iteration i, in ONE commit of two batches.
// Batch A: participant_name(i)'s contribution to model "m", base i / 3, with
//          pending entry i and two chunks of upload i; the upload record i;
//          erase of upload record i - 1.
// Batch B (when i % 3 == 2: a merge making version v = i / 3 + 1): erase_merged
//          of iterations i - 2 and i - 1; version v (package_size(v) bytes,
//          more than one piece when v is odd), its info, the model record,
//          the server state (state_size(v), several pieces when v is odd)
//          and the erase of version v - 2's pieces.
void write_iteration(Store& store, uint32_t i);
std::string participant_name(uint32_t i);
size_t record_size(uint32_t i);
size_t chunk_size(uint32_t i, int which);
uint64_t chunk_offset(int which);
size_t package_size(uint64_t v);
size_t state_size(uint64_t v);
// Checks that `store` holds exactly the state after iterations 0..last
// (last = -1: none); returns the differences found (empty: none).
std::vector<std::string> check_state_after(const Store& store, int64_t last);

inline constexpr int kThreads = 4;
// Batch i of thread t of the "threads" child: put_key("t<t>-<i>") and the
// model record "t<t>" = "t<t>:<i>".
StoreBatch thread_batch(int t, uint32_t i);
std::string thread_key(int t, uint32_t i);

// The body of a child process (never returns).
[[noreturn]] void run_child(const std::string& mode, const std::string& dir, int fd, int n);

}  // namespace fedhub::test
