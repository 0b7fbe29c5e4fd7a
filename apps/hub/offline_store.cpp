#include "apps/hub/offline_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace fedhub::cli {

bool store_locked(const std::string& dir) {
  const int fd = ::open((std::filesystem::path(dir) / "LOCK").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  ::close(fd);  // this process held no lock on it
  return held;
}

std::shared_ptr<Store> open_offline(const std::string& dir) {
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT"))
    throw std::runtime_error("'" + dir + "' holds no hub data (no RocksDB database): check --data-dir");
  const auto running = std::runtime_error("the hub is running on " + dir + ": stop it first");
  if (store_locked(dir)) throw running;
  try {
    return Store::open(dir);
  } catch (const StoreError&) {
    if (store_locked(dir)) throw running;  // it started meanwhile
    throw;
  }
}

}  // namespace fedhub::cli
