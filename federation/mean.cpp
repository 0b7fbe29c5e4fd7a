// mean / fedavg: the streaming weighted mean (see mean.hpp), and the DP-FedAvg
// mechanics shared by every mean-based strategy.
#include "federation/mean.hpp"

#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "federation/aggregate.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {
constexpr const char* kClipKey = "dp.clip_norm";
}

MeanAggregator::MeanAggregator(const AggregatorConfig& config, int64_t parameter_count, const ServerState& state)
    : Aggregator(parameter_count), config_(config.resolved()) {
  if (!is_mean_based(config_.name))
    throw std::invalid_argument("MeanAggregator: '" + config_.name + "' is not a mean-based strategy");
  if (config_.dp.enabled) {
    clip_norm_ = config_.dp.clip_norm;
    if (config_.dp.adaptive_clipping) {
      check_state_vector(state, kClipKey, 1);
      if (auto it = state.vectors.find(kClipKey); it != state.vectors.end()) {
        const double c = it->second[0];
        if (!(std::isfinite(c) && c > 0))
          throw std::invalid_argument("server state: dp.clip_norm must be finite and > 0, got " + std::to_string(c));
        clip_norm_ = c;
      }
    }
  }
}

double MeanAggregator::weight_of(double num_samples, double staleness_factor) const {
  if (config_.dp.enabled && staleness_factor > 1.0)
    throw std::invalid_argument("with dp, the staleness factor must be <= 1 (sensitivity C), got " +
                                std::to_string(staleness_factor));
  if (config_.weighting == "uniform") return staleness_factor;
  const double w = num_samples * staleness_factor;
  if (!(w > 0 && std::isfinite(w)))
    throw std::invalid_argument(config_.name + " weights by sample count: the count must be > 0, got " +
                                std::to_string(num_samples));
  return w;
}

std::span<float> MeanAggregator::accumulator() {
  const auto n = static_cast<size_t>(parameter_count());
  if (!acc_) {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw std::bad_alloc();
    acc_.reset(p);
  }
  return {acc_.get(), n};
}

void MeanAggregator::add(std::span<const float> delta, double num_samples, double staleness_factor) {
  const std::span<const float> one[1] = {delta};
  const double n[1] = {num_samples};
  const double f[1] = {staleness_factor};
  add_many(one, n, f);
}

void MeanAggregator::add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                              std::span<const double> staleness_factors) {
  if (deltas.size() != num_samples.size() || deltas.size() != staleness_factors.size())
    throw std::invalid_argument("add_many: " + std::to_string(deltas.size()) + " deltas, " +
                                std::to_string(num_samples.size()) + " sample counts and " +
                                std::to_string(staleness_factors.size()) + " staleness factors");
  if (deltas.empty()) return;
  std::vector<float> coefs(deltas.size());
  std::vector<double> weights(deltas.size());
  for (size_t k = 0; k < deltas.size(); ++k) {
    check_contribution(deltas[k], num_samples[k], staleness_factors[k]);
    weights[k] = weight_of(num_samples[k], staleness_factors[k]);
    coefs[k] = static_cast<float>(weights[k]);
  }
  int64_t unclipped = 0;
  if (config_.dp.enabled) {
    // DP-FedAvg: clip(D) = D min(1, C/||D||); the sum is divided by the count.
    for (size_t k = 0; k < deltas.size(); ++k) {
      const double norm = l2_norm(deltas[k]);
      if (norm <= clip_norm_) ++unclipped;
      coefs[k] = static_cast<float>(weights[k] * clip_factor(norm, clip_norm_));
    }
  }
  weighted_sum(accumulator(), deltas, coefs, /*overwrite=*/count_ == 0);
  for (double w : weights) weight_sum_ += w;
  count_ += static_cast<int64_t>(deltas.size());
  unclipped_ += unclipped;
}

void MeanAggregator::check_state(const ServerState&) const {}

void MeanAggregator::step(std::span<float> model, std::span<const float> acc, float scale, ServerState&) {
  sgd_step(model, acc, scale, static_cast<float>(config_.server_lr));
}

void MeanAggregator::apply(std::span<float> model, ServerState& state) {
  if (count_ == 0) throw std::logic_error("apply: no contributions to aggregate (strategy " + config_.name + ")");
  check_model(model);
  check_state(state);
  const bool adaptive = config_.dp.enabled && config_.dp.adaptive_clipping;
  if (adaptive) check_state_vector(state, kClipKey, 1);
  auto acc = accumulator();
  float acc_scale;
  double next_clip = clip_norm_;
  if (config_.dp.enabled) {
    const auto& dp = config_.dp;
    const uint64_t seed = round_seed(dp.seed, state.rounds);
    const double z = delta_noise_multiplier(dp.noise_multiplier, adaptive ? dp.count_noise_stddev : 0.0);
    scale(acc, static_cast<float>(1.0 / static_cast<double>(count_)));
    add_gaussian_noise(acc, dp_noise_stddev(z, clip_norm_, count_), seed);
    acc_scale = 1.0f;
    if (adaptive) {
      double unclipped = static_cast<double>(unclipped_);
      if (dp.count_noise_stddev > 0) {
        std::mt19937_64 rng(seed ^ 0xA5A5A5A5A5A5A5A5ull);
        unclipped += std::normal_distribution<double>(0.0, dp.count_noise_stddev)(rng);
      }
      next_clip = adaptive_clip_norm(clip_norm_, unclipped / static_cast<double>(count_), dp.target_unclipped_quantile,
                                     dp.clip_learning_rate);
    }
  } else {
    const double denom = config_.divide_by_count ? static_cast<double>(count_) : weight_sum_;
    acc_scale = static_cast<float>(1.0 / denom);
  }
  step(model, acc, acc_scale, state);
  if (adaptive) {
    state_vector(state, kClipKey, 1)[0] = static_cast<float>(next_clip);
    clip_norm_ = next_clip;
  }
  ++state.rounds;
  reset();
}

void MeanAggregator::reset() {
  count_ = 0;
  weight_sum_ = 0;
  unclipped_ = 0;
}

int64_t MeanAggregator::held_bytes() const {
  return acc_ ? parameter_count() * static_cast<int64_t>(sizeof(float)) : 0;
}

std::string MeanAggregator::describe_memory() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "one accumulator (%.1f MiB) whatever K",
                static_cast<double>(parameter_count()) * sizeof(float) / (1 << 20));
  return buf;
}

namespace detail {
std::unique_ptr<Aggregator> make_mean(const AggregatorConfig& c, int64_t n, const ServerState& s) {
  return std::make_unique<MeanAggregator>(c, n, s);
}
}  // namespace detail

}  // namespace fedhub::federation
