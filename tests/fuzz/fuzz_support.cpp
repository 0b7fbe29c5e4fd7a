#include "fuzz_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fedhub::fuzz {

namespace fs = std::filesystem;

namespace {

std::string make_scratch() {
  std::error_code ec;
  fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
  fs::path dir = base / ("fedhub-fuzz-" + std::to_string(::getpid()));
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  return dir.string();
}

void remove_scratch();

// Never destroyed: remove_scratch runs at exit, after static strings of
// this file would have been.
const std::string& scratch_once() {
  static const std::string* dir = [] {
    auto* d = new std::string(make_scratch());
    std::atexit(remove_scratch);
    return d;
  }();
  return *dir;
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch_once(), ec);
}

}  // namespace

const std::string& scratch_dir() { return scratch_once(); }

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace fedhub::fuzz
