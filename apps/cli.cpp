#include "apps/cli.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "messages/errors.hpp"

namespace fedhub::cli {

void tune_malloc() {
  // By default glibc maps blocks above a threshold that starts at 128 KiB
  // and returns them on free: every chunk of a few MiB then costs fresh
  // zeroed pages (toolchain.md measured 5x on 50 MB messages). Blocks up to
  // 32 MiB (glibc's maximum) are reused from the heap instead; model-sized
  // blocks are still mapped and returned.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

int run_guarded(const char* program, int (*body)(int, char**), int argc, char** argv) {
  tune_malloc();
  try {
    return body(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << program << ": " << e.what() << "\n(see " << program << " --help)\n";
    return kUsage;
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n(see " << program << " --help)\n";
    return kUsage;
  } catch (const RequestError& e) {
    std::cerr << program << ": error: " << e.describe() << "\n";
    return kFailed;
  } catch (const std::exception& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return kFailed;
  }
}

std::string read_key(const po::variables_map& vm) {
  if (vm.count("key")) return vm["key"].as<std::string>();
  if (vm.count("key-file")) {
    const auto path = vm["key-file"].as<std::string>();
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read key file '" + path + "'");
    std::string key;
    std::getline(in, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
    if (key.empty()) throw std::runtime_error("key file '" + path + "' is empty");
    return key;
  }
  if (const char* env = std::getenv("FEDHUB_KEY"); env && *env) return env;
  throw UsageError("no API key: pass --key KEY or --key-file FILE (or set FEDHUB_KEY)");
}

uint64_t whole(const po::variables_map& vm, const char* option, uint64_t lo, uint64_t hi) {
  const int64_t v = vm[option].as<int64_t>();
  if (v < 0 || static_cast<uint64_t>(v) < lo || static_cast<uint64_t>(v) > hi)
    throw UsageError("--" + std::string(option) + " must be a whole number from " + std::to_string(lo) + " to " +
                     std::to_string(hi) + ", not " + std::to_string(v));
  return static_cast<uint64_t>(v);
}

std::function<void(uint64_t, uint64_t)> transfer_progress(const std::string& what) {
  const bool tty = isatty(2);
  auto last = std::make_shared<int>(-1);
  return [what, tty, last](uint64_t done, uint64_t total) {
    if (total < (16u << 20)) return;  // small transfers end before progress matters
    const int percent = total == 0 ? 100 : static_cast<int>(done * 100 / total);
    const int step = tty ? percent : percent / 25 * 25;
    if (step == *last) return;
    *last = step;
    std::cerr << (tty ? "\r" : "") << what << " " << step << "% (" << done / (1 << 20) << " of " << total / (1 << 20)
              << " MiB)" << (tty && done < total ? "" : "\n") << std::flush;
  };
}

void add_hub_options(po::options_description& d) {
  d.add_options()("hub", po::value<std::string>()->default_value("127.0.0.1:7461"), "the hub's HOST:PORT")(
      "key", po::value<std::string>(), "API key")("key-file", po::value<std::string>(), "file holding the API key")(
      "timeout", po::value<double>()->default_value(120), "seconds to wait for each answer");
}

}  // namespace fedhub::cli
