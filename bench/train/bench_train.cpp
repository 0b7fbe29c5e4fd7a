// bench-train: local training speed of SIMPLE-CNN-32-32-3 (20 classes) against
// PyTorch measured in the same run with the same thread count.
//
//   bench-train [--threads N] [--seconds S] [--no-torch]
//
// ours  train: train_round over random images (batch 32, Adam), images/s
// ours  infer: evaluate (inference in batches of 256), images/s
// Each number is the best of 5 windows of S/5 seconds (S = 3 by default).
// torch      : bench/train/torch_simple_cnn.py under /usr/bin/python3
// Last line: "bench-train: train R1 infer R2" with R = ours / PyTorch ("n/a"
// when torch cannot be imported).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "model/architecture.hpp"
#include "model/recipe.hpp"
#include "training/random.hpp"
#include "training/trainer.hpp"

namespace {

using namespace fedhub;
using Clock = std::chrono::steady_clock;

const char* kSimpleCnn = R"({"input":[32,32,3],"layers":[
  {"type":"conv2d","filters":32,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
  {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
  {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"flatten"},
  {"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":20}]})";

struct Options {
  int threads = 2;
  double seconds = 3.0;
  bool torch = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--threads")
      o.threads = std::stoi(value());
    else if (a == "--seconds")
      o.seconds = std::stod(value());
    else if (a == "--no-torch")
      o.torch = false;
    else
      throw std::invalid_argument("unknown argument '" + a + "' (use --threads N, --seconds S, --no-torch)");
  }
  if (o.threads <= 0 || o.seconds <= 0) throw std::invalid_argument("--threads and --seconds must be positive");
  return o;
}

datasets::Dataset random_images(int64_t n, int64_t classes, uint64_t seed) {
  datasets::Dataset d;
  d.sample_shape = {32, 32, 3};
  training::Random rng(seed);
  d.pixels.resize(static_cast<size_t>(n * 32 * 32 * 3));
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.next() >> 56);
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(static_cast<int32_t>(rng.below(classes)));
  return d;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Images per second of `once` (which handles `images` images): the best of
// kWindows windows of budget / kWindows seconds each, the least disturbed one
// on a shared machine (the PyTorch script measures the same way).
constexpr int kWindows = 5;
template <typename F>
double throughput(double budget, int64_t images, F once) {
  once();  // warm-up
  double best = 0;
  for (int w = 0; w < kWindows; ++w) {
    int64_t done = 0;
    const auto start = Clock::now();
    do {
      once();
      done += images;
    } while (seconds_since(start) < budget / kWindows);
    best = std::max(best, static_cast<double>(done) / seconds_since(start));
  }
  return best;
}

struct TorchNumbers {
  double train = 0, infer = 0;
};

std::optional<TorchNumbers> run_torch(const Options& o) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) return std::nullopt;
  const std::string cmd = std::string("/usr/bin/python3 ") + FEDHUB_SOURCE_DIR +
                          "/bench/train/torch_simple_cnn.py --threads " + std::to_string(o.threads) + " --seconds " +
                          std::to_string(o.seconds);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return std::nullopt;
  TorchNumbers t;
  char line[256];
  while (std::fgets(line, sizeof line, pipe)) {
    double v = 0;
    if (std::sscanf(line, "torch train %lf", &v) == 1) t.train = v;
    if (std::sscanf(line, "torch infer %lf", &v) == 1) t.infer = v;
  }
  if (pclose(pipe) != 0 || t.train <= 0 || t.infer <= 0) return std::nullopt;
  return t;
}

// The 1-minute load average, or -1 when unknown.
double load_average() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double load = -1;
  if (std::fscanf(f, "%lf", &load) != 1) load = -1;
  std::fclose(f);
  return load;
}

std::string ratio(double ours, const std::optional<TorchNumbers>& torch, double TorchNumbers::*field) {
  if (!torch) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ours / ((*torch).*field));
  return buf;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  const Architecture arch = parse_architecture(kSimpleCnn);
  const Weights w0 = training::initialize_weights(arch, 42);
  std::printf("bench-train: SIMPLE-CNN-32-32-3, %lld parameters, %d threads\n",
              static_cast<long long>(parameter_count(w0)), o.threads);
  const double load = load_average();
  const unsigned cores = std::thread::hardware_concurrency();
  if (load > 0.5 && cores > 0 && load + o.threads > cores)
    std::printf(
        "note: load average %.1f on %u cores before the run: other processes compete for the cores, "
        "both sides' numbers (PyTorch's most) are noisy\n",
        load, cores);

  // Training: train_round over 50 steps of 32 random images per call (Adam, fresh state).
  const auto train_data = random_images(6400, 20, 7);
  Recipe recipe;
  recipe.batch_size = 32;
  recipe.steps = 50;
  recipe.samples_per_round = 1600;
  training::TrainOptions topt;
  topt.threads = o.threads;
  Weights w = w0;
  const double train = throughput(o.seconds, recipe.steps * recipe.batch_size, [&] {
    w = training::train_round(arch, recipe, w0, train_data, topt).weights;
    ++topt.seed;
  });
  std::printf("ours  train (fwd+bwd+Adam, batch 32): %9.1f images/s\n", train);

  // Inference: evaluate in batches of 256.
  const auto test_data = random_images(2560, 20, 8);
  const double infer =
      throughput(o.seconds, test_data.size(), [&] { training::evaluate(arch, w, test_data, o.threads); });
  std::printf("ours  infer (batch 256):              %9.1f images/s\n", infer);

  std::optional<TorchNumbers> torch;
  if (o.torch) torch = run_torch(o);
  if (torch) {
    std::printf("torch train (fwd+bwd+Adam, batch 32): %9.1f images/s\n", torch->train);
    std::printf("torch infer (batch 256):              %9.1f images/s\n", torch->infer);
  } else {
    std::printf("torch: not measured (%s)\n", o.torch ? "/usr/bin/python3 cannot import torch" : "--no-torch");
  }
  std::printf("bench-train: train %s infer %s\n", ratio(train, torch, &TorchNumbers::train).c_str(),
              ratio(infer, torch, &TorchNumbers::infer).c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-train: %s\n", e.what());
  return 1;
}
