#include "hub/backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "messages/errors.hpp"

namespace fedhub {

namespace fs = std::filesystem;

namespace {

struct Totals {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// fsyncs every file of `dir` and the directory itself.
Totals sync_tree(const fs::path& dir) {
  Totals t;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    ++t.files;
    t.bytes += e.file_size();
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot sync '" + e.path().string() + "'");
    }
    ::close(fd);
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot sync the directory '" + dir.string() + "'");
  }
  ::close(fd);
  return t;
}

std::string describe(const Totals& t) {
  std::ostringstream o;
  o << t.files << " files, " << static_cast<double>(t.bytes) / 1e6 << " MB";
  return o.str();
}

}  // namespace

void check_backup_target(const std::string& dir) {
  const fs::path p(dir);
  if (dir.empty() || !p.is_absolute())
    throw RequestError(ErrorCode::bad_request, "the backup directory '" + dir +
                                                   "' is not an absolute path (it names a place on the hub's machine)");
  std::error_code ec;
  if (fs::exists(p, ec) || ec)
    throw RequestError(ErrorCode::bad_request,
                       "the backup directory '" + dir + "' exists already: name a new directory");
  if (!fs::is_directory(p.parent_path(), ec))
    throw RequestError(ErrorCode::bad_request, "the backup directory's parent '" + p.parent_path().string() +
                                                   "' is not a directory: create it first");
}

std::string write_backup(Store& store, const std::string& dir) {
  check_backup_target(dir);
  try {
    store.checkpoint(dir);
    return "backup written to " + dir + " (" + describe(sync_tree(dir)) + ")";
  } catch (const std::exception& e) {
    throw RequestError(ErrorCode::internal, std::string("the backup failed: ") + e.what());
  }
}

std::string restore_backup(const std::string& from, const std::string& data_dir) {
  const fs::path src(from), dst(data_dir);
  if (!fs::exists(src / "CURRENT"))
    throw std::runtime_error("'" + from + "' is not a backup of a hub (no RocksDB database in it)");
  if (fs::exists(dst))
    throw std::runtime_error("the data directory '" + data_dir +
                             "' exists already: restore into a new directory (or move the old one away first)");
  const fs::path work = dst.string() + ".restoring";
  if (fs::exists(work))
    throw std::runtime_error("'" + work.string() + "' exists (an earlier restore that did not finish?): remove it");
  if (dst.has_parent_path()) fs::create_directories(dst.parent_path());
  try {
    fs::create_directory(work);
    for (const auto& e : fs::directory_iterator(src))
      if (e.is_regular_file()) fs::copy_file(e.path(), work / e.path().filename());
    Store::open(work.string()).reset();  // checks the schema; writes a new MANIFEST
    const Totals t = sync_tree(work);
    fs::rename(work, dst);
    const fs::path parent = dst.has_parent_path() ? dst.parent_path() : fs::path(".");
    const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    return "restored " + from + " into " + data_dir + " (" + describe(t) + ")";
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(work, ignored);
    throw;
  }
}

}  // namespace fedhub
