// fuzz_replay: every fuzz target of tests/fuzz in one program of the normal
// build (no libFuzzer), for CTest's fuzz_corpus_replay: each committed seed
// (corpus/<target>/) and each past crash (regressions/<target>/) goes
// through its target once, so that the targets keep compiling against the
// decoders and the inputs keep passing. In this build each target's
// LLVMFuzzerTestOneInput is renamed fedhub_fuzz_<target> (tests/fuzz/CMakeLists.txt).
//
//   fuzz_replay DIR...                    every <DIR>/<target>/* through <target>
//   fuzz_replay --target NAME FILE...     these files through one target
//
// A crash, sanitizer report or escaping exception fails the run (the name of
// the input is printed before it is run); a target without any seed in the
// first DIR fails too.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#define FEDHUB_FUZZ_TARGET(name) extern "C" int fedhub_fuzz_##name(const uint8_t*, size_t);
#include "fuzz_targets.inc"
#undef FEDHUB_FUZZ_TARGET

namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

#define FEDHUB_FUZZ_TARGET(name) {#name, fedhub_fuzz_##name},
const Target kTargets[] = {
#include "fuzz_targets.inc"
};
#undef FEDHUB_FUZZ_TARGET

void run_file(const Target& t, const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::printf("%s: %s (%zu bytes)\n", t.name, file.string().c_str(), bytes.size());
  std::fflush(stdout);
  // A copy of exactly the input's size, as libFuzzer passes it (so reads past the end are caught).
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  t.run(copy.data(), copy.size());
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 3 && std::strcmp(argv[1], "--target") == 0) {
      for (const auto& t : kTargets)
        if (t.name == std::string(argv[2])) {
          for (int i = 3; i < argc; ++i) run_file(t, argv[i]);
          return 0;
        }
      std::fprintf(stderr, "fuzz_replay: no target '%s'\n", argv[2]);
      return 2;
    }
    if (argc < 2) {
      std::fprintf(stderr, "usage: fuzz_replay DIR... | fuzz_replay --target NAME FILE...\n");
      return 2;
    }
    int missing = 0;
    for (const auto& t : kTargets) {
      size_t n = 0;
      for (int d = 1; d < argc; ++d) {
        const auto files = files_in(fs::path(argv[d]) / t.name);
        if (d == 1 && files.empty()) {
          std::fprintf(stderr, "fuzz_replay: target %s has no seed in %s/%s\n", t.name, argv[1], t.name);
          ++missing;
        }
        for (const auto& f : files) run_file(t, f);
        n += files.size();
      }
      std::printf("fuzz_replay: %s passed %zu inputs\n", t.name, n);
    }
    return missing == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_replay: %s\n", e.what());
    return 1;
  }
}
