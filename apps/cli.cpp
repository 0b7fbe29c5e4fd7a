#include "apps/cli.hpp"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

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

int64_t version_or_current(const po::variables_map& vm, const char* option) {
  const int64_t v = vm[option].as<int64_t>();
  if (v < -1)
    throw UsageError("--" + std::string(option) + " must be a version number (0 or more) or -1 for the current " +
                     "version, not " + std::to_string(v));
  return v;
}

std::function<void(uint64_t, uint64_t)> transfer_progress(const std::string& what, ProgressMode mode) {
  if (mode == ProgressMode::off) return [](uint64_t, uint64_t) {};
  struct State {
    TransferProgress progress;
    std::optional<std::chrono::steady_clock::time_point> start;
  };
  auto st = std::make_shared<State>(State{TransferProgress(std::cerr, mode, what), std::nullopt});
  return [st](uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (!st->start) st->start = now;
    st->progress.update(done, total, std::chrono::duration<double>(now - *st->start).count());
  };
}

std::function<void(uint64_t, uint64_t)> transfer_progress(const std::string& what) {
  return transfer_progress(what, cli::progress_mode(false, false, isatty(2)));
}

std::function<std::function<void(uint64_t, uint64_t)>(const std::string&)> transfer_progress_factory(
    ProgressMode mode) {
  return [mode](const std::string& what) { return transfer_progress(what, mode); };
}

ProgressMode progress_mode(const po::variables_map& vm) {
  return progress_mode(vm.count("quiet") > 0, vm.count("progress") > 0, isatty(2));
}

void add_progress_options(po::options_description& d) {
  d.add_options()("quiet,q", "no progress on stderr (results and errors are still printed)")(
      "progress", "progress even when stderr is not a terminal (whole lines, no '\\r')");
}

void add_hub_options(po::options_description& d) {
  d.add_options()("hub", po::value<std::string>()->default_value("127.0.0.1:7461"), "the hub's HOST:PORT")(
      "key", po::value<std::string>(), "API key (default: the FEDHUB_KEY environment variable)")(
      "key-file", po::value<std::string>(), "file holding the API key")(
      "timeout", po::value<double>()->default_value(120), "seconds to wait for each answer");
  add_tls_options(d);
  add_progress_options(d);
}

void add_tls_options(po::options_description& d) {
  d.add_options()("ca-file", po::value<std::string>(),
                  "TLS: the CA file that signed the hub's certificate (fl-hub init-tls: DIR/ca.pem; default: the "
                  "FEDHUB_CA_FILE environment variable); without it, plain TCP")(
      "cert", po::value<std::string>(), "mutual TLS: this client's certificate (DIR/clients/NAME.pem)")(
      "cert-key", po::value<std::string>(), "mutual TLS: its private key (DIR/clients/NAME.key)");
}

ClientTls client_tls(const po::variables_map& vm) {
  ClientTls tls;
  if (vm.count("ca-file"))
    tls.ca_file = vm["ca-file"].as<std::string>();
  else if (const char* env = std::getenv("FEDHUB_CA_FILE"); env && *env)
    tls.ca_file = env;
  if (vm.count("cert")) tls.certificate = vm["cert"].as<std::string>();
  if (vm.count("cert-key")) tls.key = vm["cert-key"].as<std::string>();
  if (tls.certificate.empty() != tls.key.empty()) throw UsageError("--cert and --cert-key go together");
  if (!tls.certificate.empty() && tls.ca_file.empty())
    throw UsageError("--cert needs --ca-file (the CA that signed the hub's certificate)");
  return tls;
}

}  // namespace fedhub::cli
