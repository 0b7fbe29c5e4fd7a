#include "federation/dp.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace fedhub::federation {
namespace {

// SplitMix64's finaliser: a bijective 64-bit mix.
uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

}  // namespace

std::string check_dp_config(const DpConfig& dp) {
  if (!finite_nonneg(dp.noise_multiplier))
    return "dp: noise_multiplier must be finite and >= 0, got " + std::to_string(dp.noise_multiplier);
  if (!(std::isfinite(dp.clip_norm) && dp.clip_norm > 0))
    return "dp: clip_norm must be finite and > 0, got " + std::to_string(dp.clip_norm);
  if (!(std::isfinite(dp.target_unclipped_quantile) && dp.target_unclipped_quantile >= 0 &&
        dp.target_unclipped_quantile <= 1))
    return "dp: target_unclipped_quantile must be in [0, 1], got " + std::to_string(dp.target_unclipped_quantile);
  if (!finite_nonneg(dp.clip_learning_rate))
    return "dp: clip_learning_rate must be finite and >= 0, got " + std::to_string(dp.clip_learning_rate);
  if (!finite_nonneg(dp.count_noise_stddev))
    return "dp: count_noise_stddev must be finite and >= 0, got " + std::to_string(dp.count_noise_stddev);
  if (dp.adaptive_clipping && dp.count_noise_stddev > 0 && 2 * dp.count_noise_stddev <= dp.noise_multiplier)
    return "dp: count_noise_stddev " + std::to_string(dp.count_noise_stddev) + " is too small for noise_multiplier " +
           std::to_string(dp.noise_multiplier) + " (adaptive clipping needs 2 * count_noise_stddev > noise_multiplier)";
  return {};
}

double clip_factor(double norm, double clip_norm) {
  if (norm <= clip_norm || norm == 0.0) return 1.0;
  return clip_norm / norm;
}

double dp_noise_stddev(double noise_multiplier, double clip_norm, int64_t m) {
  if (m < 1) throw std::invalid_argument("dp_noise_stddev: m must be >= 1, got " + std::to_string(m));
  return noise_multiplier * clip_norm / static_cast<double>(m);
}

double delta_noise_multiplier(double z, double sigma_b) {
  if (sigma_b == 0.0) return z;
  if (2 * sigma_b <= z)
    throw std::invalid_argument("delta_noise_multiplier: needs 2 * count_noise_stddev > noise_multiplier, got " +
                                std::to_string(sigma_b) + " and " + std::to_string(z));
  if (z == 0.0) return 0.0;
  return 1.0 / std::sqrt(1.0 / (z * z) - 1.0 / (4.0 * sigma_b * sigma_b));
}

double adaptive_clip_norm(double clip_norm, double unclipped_fraction, double gamma, double eta) {
  return clip_norm * std::exp(-eta * (unclipped_fraction - gamma));
}

void add_gaussian_noise(std::span<float> x, double sigma, uint64_t seed) {
  if (!(std::isfinite(sigma) && sigma >= 0))
    throw std::invalid_argument("add_gaussian_noise: sigma must be finite and >= 0, got " + std::to_string(sigma));
  if (sigma == 0.0) return;
  constexpr int64_t kBlock = 65536;
  const int64_t n = static_cast<int64_t>(x.size());
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    std::mt19937_64 rng(mix64(seed ^ mix64(static_cast<uint64_t>(b))));
    std::normal_distribution<double> normal(0.0, sigma);
    const int64_t hi = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < hi; ++i) x[static_cast<size_t>(i)] += static_cast<float>(normal(rng));
  }
}

uint64_t round_seed(uint64_t seed, int64_t round) {
  if (seed == 0) {
    std::random_device rd;
    uint64_t s = 0;
    while (s == 0) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    return s;
  }
  const uint64_t s = mix64(seed ^ mix64(static_cast<uint64_t>(round) + 0x5851F42D4C957F2Dull));
  return s != 0 ? s : 0x9E3779B97F4A7C15ull;  // never 0 (0 means "no noise": Aggregator::noise_seed_used)
}

}  // namespace fedhub::federation
