// Fixed-algorithm random numbers for training: the same seed gives the same
// numbers with every standard library (no std::*_distribution).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>

namespace fedhub::training {

// SplitMix64's finaliser: a bijective mix of 64 bits (used to derive seeds and
// as a counter-based generator for dropout masks).
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed for an independent stream: `purpose` distinguishes the uses of one seed.
constexpr uint64_t derive_seed(uint64_t seed, uint64_t purpose) { return mix64(mix64(seed) ^ mix64(purpose + 1)); }

// mt19937_64 with its own mappings.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // multiple of n
    uint64_t x;
    do x = engine_();
    while (x >= limit);
    return x % n;
  }

  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::span<T> v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace fedhub::training
