#include "sim/cifar10.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace fedhub::sim {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The folder holding train/ and test/ under `root` (itself or one level down).
std::string jpeg_root(const fs::path& root) {
  if (fs::is_directory(root / "train") && fs::is_directory(root / "test")) return root.string();
  if (fs::is_directory(root))
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && fs::is_directory(e.path() / "train") && fs::is_directory(e.path() / "test"))
        return e.path().string();
  return {};
}

// tar xzf ARCHIVE -C DIR, without a shell.
void untar(const std::string& archive, const std::string& dir) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start tar to extract " + archive);
  if (pid == 0) {
    execlp("tar", "tar", "xzf", archive.c_str(), "-C", dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("tar could not extract " + archive + " into " + dir + " (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
}

std::string extracted(const std::string& archive, const std::string& cache) {
  const auto target = fs::path(cache) / ("cifar10-" + std::to_string(fs::file_size(archive)));
  if (auto root = jpeg_root(target); !root.empty() && fs::exists(target / ".complete")) return root;
  std::error_code ec;
  fs::remove_all(target, ec);
  fs::create_directories(target);
  untar(archive, target.string());
  auto root = jpeg_root(target);
  if (root.empty()) throw std::runtime_error(archive + " holds no train/ and test/ folders of CIFAR-10 images");
  std::FILE* marker = std::fopen((target / ".complete").c_str(), "w");
  if (marker) std::fclose(marker);
  return root;
}

// A source string for `split` from a path of one of the kinds above, or "".
std::string from_path(const std::string& split, const std::string& path, const std::string& cache) {
  if (path.empty() || !fs::exists(path)) return {};
  if (fs::is_regular_file(path) && (ends_with(path, ".tar.gz") || ends_with(path, ".tgz")))
    return "folder:" + (fs::path(extracted(path, cache)) / split).string();
  if (fs::is_directory(path)) {
    if (auto root = jpeg_root(path); !root.empty()) return "folder:" + (fs::path(root) / split).string();
    if (fs::exists(fs::path(path) / "data_batch_1.bin"))
      return split == "train" ? "cifar:" + path : "cifar:" + (fs::path(path) / "test_batch.bin").string();
  }
  throw std::runtime_error("'" + path + "' is not CIFAR-10: give a folder with train/ and test/ image folders, " +
                           "a folder of the official binaries (data_batch_1.bin ...) or cifar10-jpeg.tar.gz");
}

}  // namespace

std::string default_cache_folder() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (fs::path(x) / "fedhub").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "fedhub").string();
  return "/tmp/fedhub-cache";
}

std::string cifar10_source(const std::string& split, const std::string& given, const std::vector<std::string>& search,
                           const std::string& cache) {
  if (split != "train" && split != "test") throw std::invalid_argument("cifar10: the split is train or test");
  if (!given.empty()) {
    if (!fs::exists(given)) throw std::runtime_error("--cifar " + given + ": no such file or folder");
    return from_path(split, given, cache);
  }
  if (const char* env = std::getenv("FEDHUB_CIFAR10"); env && *env) {
    if (!fs::exists(env)) throw std::runtime_error("FEDHUB_CIFAR10=" + std::string(env) + ": no such file or folder");
    return from_path(split, env, cache);
  }
  std::string looked;
  for (const auto& folder : search) {
    const auto archive = (fs::path(folder) / "cifar10-jpeg.tar.gz").string();
    if (fs::is_regular_file(archive)) return from_path(split, archive, cache);
    looked += (looked.empty() ? "" : ", ") + archive;
  }
  throw std::runtime_error("CIFAR-10 not found (looked for " + looked +
                           "): give --cifar with a folder of train/ and test/ images, the official binaries or " +
                           "cifar10-jpeg.tar.gz, or set FEDHUB_CIFAR10");
}

}  // namespace fedhub::sim
