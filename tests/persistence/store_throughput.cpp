// Measures (prints, asserts nothing) how fast the store takes a large upload:
// `total` MiB in `chunk` MiB put_chunk commits (sync = false) and one final
// sync_wal, as the hub writes a streamed contribution; then the erase of the
// upload. Also prints what a fresh data directory costs on disk.
//
//   persistence_throughput DIR [total_mib=1024] [chunk_mib=4] [min_blob_kib=256] [sync_each=0] [uploads=4]
//
// Run it with and without GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432
// (min_blob_kib=0 turns blob files off). Not part of CTest.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "persistence/store.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Bytes allocated on disk under `dir` (what du counts, preallocation included).
uint64_t disk_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [total_mib] [chunk_mib] [min_blob_kib] [sync_each]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t total = (argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024) << 20;
  const uint64_t chunk = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 4) << 20;
  fedhub::StoreOptions options;
  options.min_blob_bytes = (argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 256) << 10;
  const bool sync_each = argc > 5 && std::atoi(argv[5]) != 0;

  std::filesystem::remove_all(dir);
  fedhub::Store::open(dir, options).reset();
  std::printf("fresh directory: %.1f MB on disk\n", disk_bytes(dir) / 1e6);
  std::filesystem::remove_all(dir);

  fedhub::Buffer data(chunk);
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {  // incompressible, like weights
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(data.data() + i, &x, 8);
  }
  auto store = fedhub::Store::open(dir, options);
  std::printf("open with data directory: %.1f MB on disk\n", disk_bytes(dir) / 1e6);
  // Uploads one after another; each one's predecessor is erased once it is
  // stored (as a merge erases the chunks it used), so the disk should hold
  // about two uploads, not all of them.
  const uint64_t uploads = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 4;
  for (uint64_t upload = 1; upload <= uploads; ++upload) {
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t offset = 0; offset < total; offset += chunk) {
      fedhub::StoreBatch b;
      b.put_chunk("m", upload, offset, data);
      store->commit(b, sync_each);
    }
    store->sync_wal();
    const double s = seconds_since(t0);
    std::printf(
        "upload %llu: %llu MiB in %llu MiB chunks (min_blob %llu KiB, %s): %.2f s, %.0f MB/s; %.0f MB on disk\n",
        static_cast<unsigned long long>(upload), static_cast<unsigned long long>(total >> 20),
        static_cast<unsigned long long>(chunk >> 20), static_cast<unsigned long long>(options.min_blob_bytes >> 10),
        sync_each ? "each synced" : "final sync", s, total / s / 1e6, disk_bytes(dir) / 1e6);
    const auto t1 = std::chrono::steady_clock::now();
    const uint64_t read = store->for_each_chunk("m", upload, [](uint64_t, std::span<const char>) {});
    std::printf("  read it back: %.0f MB/s\n", read / seconds_since(t1) / 1e6);
    if (upload > 1) {
      fedhub::StoreBatch erase;
      erase.erase_chunks("m", upload - 1);
      store->commit(erase);
    }
  }
  const auto t2 = std::chrono::steady_clock::now();
  store.reset();
  std::printf("close: %.2f s; %.0f MB on disk\n", seconds_since(t2), disk_bytes(dir) / 1e6);
  store = fedhub::Store::open(dir, options);
  std::printf("reopened: %.0f MB on disk\n", disk_bytes(dir) / 1e6);
  store.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
