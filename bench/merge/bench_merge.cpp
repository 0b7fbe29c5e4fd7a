// bench-merge: how fast the hub merges contributions, measured against the
// physical limit and a numpy peer in the same run.
//
//   1. Memory bandwidth with all threads: STREAM triad (a = b + s c, counted as
//      3 x 4 bytes per element as STREAM does) and a read-only sum; the larger
//      of the two is the reference.
//   2. FedAvg merges (make_aggregator("fedavg")) of K = 10 x 10M and
//      K = 100 x 1M parameters: add_many of the round (one fused, tiled pass)
//      and the full merge (add_many + apply), in GB/s of contribution bytes
//      consumed (K * P * 4 / time); also the streaming path (add one by one).
//   3. numpy peers of the same sizes (numpy_merge.py through /usr/bin/python3).
//   4. Peak extra memory of a streaming merge (add one contribution at a time,
//      as the hub does, then apply), in model sizes, from VmHWM (reset through
//      /proc/self/clear_refs) and VmRSS samples.
// Last line: "bench-merge: bandwidth_fraction F numpy_speedup S peak_extra_model_sizes M",
// F and S the worst over the two sizes (F: the full merge against the larger of
// triad and read bandwidth; S: the full merge against np.average, numpy's
// weighted average; the other numpy variants are printed too), M the worst
// over K.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "federation/aggregator.hpp"

namespace {

using namespace fedhub::federation;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Timing {
  double best = 0, median = 0;
};

template <class Fn>
Timing time_reps(int reps, Fn&& fn) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

// 64-byte aligned float buffer, not zero-initialised.
struct Buffer {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> p;
  size_t n = 0;
  explicit Buffer(size_t count) : p(static_cast<float*>(std::aligned_alloc(64, (count * 4 + 63) / 64 * 64))), n(count) {
    if (!p) throw std::bad_alloc();
  }
  float* data() { return p.get(); }
  std::span<float> span() { return {p.get(), n}; }
  std::span<const float> cspan() const { return {p.get(), n}; }
};

// Deterministic pseudo-random values in [-0.5, 0.5), filled by all threads.
void fill(std::span<float> x, uint64_t seed) {
  const int64_t n = static_cast<int64_t>(x.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(i);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x[static_cast<size_t>(i)] = static_cast<float>(z >> 40) * (1.0f / 16777216.0f) - 0.5f;
  }
}

// ---------------------------------------------------------------- bandwidth

struct Bandwidth {
  double triad = 0, read = 0;
  double reference() const { return std::max(triad, read); }
};

Bandwidth measure_bandwidth() {
  const int64_t n = int64_t{64} << 20;  // 64 Mi floats = 256 MiB per array
  Buffer a(n), b(n), c(n);
  fill(a.span(), 1);
  fill(b.span(), 2);
  fill(c.span(), 3);
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  const float s = 0.5f;
  Bandwidth bw;
  const auto triad = time_reps(6, [&] {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
  });
  bw.triad = 3.0 * 4.0 * static_cast<double>(n) / triad.best / 1e9;
  volatile float sink = 0;
  const auto read = time_reps(6, [&] {
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
      // Each thread sums its contiguous share with a vectorised inner loop.
      const int64_t threads = omp_get_num_threads();
      const int64_t share = (n + threads - 1) / threads;
      const int64_t lo = std::min(n, share * omp_get_thread_num());
      const int64_t hi = std::min(n, lo + share);
      // 64 independent partial sums (four 16-wide vectors): not latency-bound.
      constexpr int kWidth = 64;
      alignas(64) float part[kWidth] = {};
      int64_t i = lo;
      for (; i + kWidth <= hi; i += kWidth) {
#pragma omp simd
        for (int j = 0; j < kWidth; ++j) part[j] += pb[i + j];
      }
      float s = 0;
      for (; i < hi; ++i) s += pb[i];
      for (int j = 0; j < kWidth; ++j) s += part[j];
      total += s;
    }
    sink = total;
  });
  (void)sink;
  bw.read = 4.0 * static_cast<double>(n) / read.best / 1e9;
  return bw;
}

// ---------------------------------------------------------------- memory

std::map<std::string, long> proc_status_kb() {
  std::map<std::string, long> out;
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream rest(line.substr(colon + 1));
    long v = 0;
    if (rest >> v) out[line.substr(0, colon)] = v;
  }
  return out;
}

bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// Peak extra memory (in model sizes) of a streaming merge: the model and one
// incoming contribution buffer (the received message) are resident before;
// the aggregator is created, K contributions are added one at a time (each
// "arriving" in the same buffer), then applied.
double streaming_peak_model_sizes(const std::string& strategy, int64_t k, int64_t p, bool* used_hwm) {
  Buffer model(p), incoming(p);
  fill(model.span(), 11);
  fill(incoming.span(), 12);
  const long base_rss = proc_status_kb()["VmRSS"];
  *used_hwm = reset_peak_rss();
  long peak = base_rss;
  {
    AggregatorConfig c;
    c.name = strategy;
    auto agg = make_aggregator(c, p);
    ServerState state;
    for (int64_t i = 0; i < k; ++i) {
      fill(incoming.span(), 100 + static_cast<uint64_t>(i));  // the next contribution arrives
      agg->add(incoming.cspan(), 1000.0 + static_cast<double>(i), 1.0);
      peak = std::max(peak, proc_status_kb()["VmRSS"]);
    }
    agg->apply(model.span(), state);
    peak = std::max(peak, proc_status_kb()["VmRSS"]);
    if (*used_hwm) peak = std::max(peak, proc_status_kb()["VmHWM"]);
  }
  return static_cast<double>(peak - base_rss) * 1024.0 / (static_cast<double>(p) * 4.0);
}

// ---------------------------------------------------------------- merges

struct MergeResult {
  double add_many_gbs = 0, merge_gbs = 0, streaming_gbs = 0;
  double merge_best_s = 0;
};

MergeResult measure_merge(int64_t k, int64_t p, int reps) {
  std::vector<Buffer> deltas;
  deltas.reserve(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    deltas.emplace_back(p);
    fill(deltas.back().span(), 1000 + static_cast<uint64_t>(i));
  }
  std::vector<std::span<const float>> views;
  std::vector<double> samples, factors;
  for (int64_t i = 0; i < k; ++i) {
    views.push_back(deltas[static_cast<size_t>(i)].cspan());
    samples.push_back(100.0 + 10.0 * static_cast<double>(i));
    factors.push_back(1.0);
  }
  Buffer model(p);
  fill(model.span(), 7);
  AggregatorConfig c;
  c.name = "fedavg";
  auto agg = make_aggregator(c, p);
  ServerState state;

  // Correctness spot check against the definition, and warm-up (accumulator pages).
  std::vector<float> before(model.data(), model.data() + std::min<int64_t>(p, 4096));
  agg->add_many(views, samples, factors);
  agg->apply(model.span(), state);
  double wsum = 0;
  for (double s : samples) wsum += s;
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{4095}}) {
    double expect = before[static_cast<size_t>(i)];
    for (int64_t j = 0; j < k; ++j)
      expect += samples[static_cast<size_t>(j)] / wsum * views[static_cast<size_t>(j)][static_cast<size_t>(i)];
    if (std::abs(expect - model.data()[i]) > 1e-4) {
      std::fprintf(stderr, "bench-merge: wrong merge result at %lld: %g vs %g\n", static_cast<long long>(i),
                   static_cast<double>(model.data()[i]), expect);
      std::exit(1);
    }
  }

  const double bytes = static_cast<double>(k) * static_cast<double>(p) * 4.0;
  MergeResult r;
  const auto acc_only = time_reps(reps, [&] {
    agg->add_many(views, samples, factors);
    agg->reset();
  });
  r.add_many_gbs = bytes / acc_only.best / 1e9;
  const auto full = time_reps(reps, [&] {
    agg->add_many(views, samples, factors);
    agg->apply(model.span(), state);
  });
  r.merge_gbs = bytes / full.best / 1e9;
  r.merge_best_s = full.best;
  const auto streaming = time_reps(std::max(3, reps / 3), [&] {
    for (int64_t i = 0; i < k; ++i)
      agg->add(views[static_cast<size_t>(i)], samples[static_cast<size_t>(i)], factors[static_cast<size_t>(i)]);
    agg->apply(model.span(), state);
  });
  r.streaming_gbs = bytes / streaming.best / 1e9;
  std::printf(
      "  fedavg K=%-3lld P=%-9lld add_many %6.1f GB/s | merge (add_many+apply) %6.1f GB/s, %.2f ms | "
      "streaming add+apply %6.1f GB/s (median merge %.2f ms)\n",
      static_cast<long long>(k), static_cast<long long>(p), r.add_many_gbs, r.merge_gbs, full.best * 1e3,
      r.streaming_gbs, full.median * 1e3);
  return r;
}

// /proc/loadavg's line (other work on the machine makes every number here lower).
std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string line;
  std::getline(f, line);
  return line + "\n";
}

// Runs numpy_merge.py; returns variant -> best seconds (empty if unavailable).
std::map<std::string, double> run_numpy(const std::string& script, int64_t k, int64_t p, int reps) {
  std::map<std::string, double> best;
  const std::string cmd = "/usr/bin/python3 '" + script + "' " + std::to_string(k) + " " + std::to_string(p) + " " +
                          std::to_string(reps) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return best;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::istringstream in(line);
    std::string tag, variant;
    long long kk = 0, pp = 0;
    double b = 0, med = 0;
    if (in >> tag >> variant && tag == "numpy" && variant != "n/a" && in >> kk >> pp >> b >> med) {
      best[variant] = b;
      std::printf("  numpy %-9s K=%-3lld P=%-9lld %7.1f ms  %6.1f GB/s\n", variant.c_str(), kk, pp, b * 1e3,
                  static_cast<double>(kk) * static_cast<double>(pp) * 4.0 / b / 1e9);
    } else {
      std::printf("  %s", line);
    }
  }
  pclose(pipe);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string script = FEDHUB_NUMPY_MERGE_SCRIPT;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--numpy-script" && i + 1 < argc) {
      script = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench-merge [--numpy-script PATH]\n");
      return 2;
    }
  }
  std::printf("bench-merge: %d threads, load average %s", omp_get_max_threads(), load_average().c_str());

  // 4. Memory first, while the process is small.
  std::printf("peak extra memory of a streaming merge (add one at a time, then apply):\n");
  double worst_m = 0;
  bool hwm = false;
  for (auto [k, p] : {std::pair<int64_t, int64_t>{10, 10'000'000}, {100, 1'000'000}}) {
    const double m = streaming_peak_model_sizes("fedavg", k, p, &hwm);
    worst_m = std::max(worst_m, m);
    std::printf("  fedavg K=%-3lld P=%-9lld %.2f model sizes%s\n", static_cast<long long>(k), static_cast<long long>(p),
                m, hwm ? " (VmHWM)" : " (VmRSS samples)");
  }
  {
    const double m = streaming_peak_model_sizes("median", 10, 1'000'000, &hwm);
    std::printf("  median K=10  P=1000000   %.2f model sizes (robust: keeps all K deltas; not in the goal)\n", m);
  }

  // 1. Bandwidth.
  const Bandwidth bw = measure_bandwidth();
  std::printf("memory bandwidth (%d threads): triad %.1f GB/s, read %.1f GB/s -> reference %.1f GB/s\n",
              omp_get_max_threads(), bw.triad, bw.read, bw.reference());

  // 2. + 3. Merges and numpy.
  double worst_fraction = 1e9, worst_speedup = 1e9;
  bool numpy_ok = true;
  for (auto [k, p] : {std::pair<int64_t, int64_t>{10, 10'000'000}, {100, 1'000'000}}) {
    const MergeResult r = measure_merge(k, p, 15);
    const double f_merge = r.merge_gbs / bw.reference();
    const double f_acc = r.add_many_gbs / bw.reference();
    std::printf("  -> fraction of bandwidth: merge %.2f, add_many alone %.2f\n", f_merge, f_acc);
    worst_fraction = std::min(worst_fraction, f_merge);
    const auto np = run_numpy(script, k, p, 3);
    if (np.empty()) {
      numpy_ok = false;
      continue;
    }
    // The reference is numpy's weighted average, np.average(stack, axis=0,
    // weights=n); the other variants are printed for comparison.
    std::printf("  -> speedup of the merge over numpy:");
    for (const auto& [name, s] : np) std::printf(" %s %.1fx", name.c_str(), s / r.merge_best_s);
    std::printf("\n");
    if (!np.count("average")) {
      numpy_ok = false;
      continue;
    }
    worst_speedup = std::min(worst_speedup, np.at("average") / r.merge_best_s);
  }
  char speedup_text[32];
  if (numpy_ok)
    std::snprintf(speedup_text, sizeof speedup_text, "%.1f", worst_speedup);
  else
    std::snprintf(speedup_text, sizeof speedup_text, "n/a");
  std::printf("load average at the end: %s", load_average().c_str());
  std::printf("bench-merge: bandwidth_fraction %.2f numpy_speedup %s peak_extra_model_sizes %.2f\n", worst_fraction,
              speedup_text, worst_m);
  return 0;
}
