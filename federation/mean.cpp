// mean / fedavg: the streaming weighted mean (see mean.hpp), and the DP-FedAvg
// mechanics shared by every mean-based strategy.
#include "federation/mean.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
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
  check_weights(num_samples, staleness_factor);
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

std::span<float> MeanAggregator::storage() {
  if (acc_.empty()) acc_ = AlignedFloats(static_cast<size_t>(parameter_count()));
  return acc_.span();
}

std::span<float> MeanAggregator::touch() {
  if (!has_data_) {
    fill(storage(), 0.0f);
    has_data_ = true;
  }
  return acc_.span();
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
  weights_.reserve(weights_.size() + weights.size());
  weighted_sum(storage(), deltas, coefs, /*overwrite=*/!has_data_);
  has_data_ = true;
  weights_.insert(weights_.end(), weights.begin(), weights.end());
  unclipped_ += unclipped;
}

void MeanAggregator::check_folding(const char* what) const {
  if (!can_fold_parts())
    throw std::logic_error(std::string(what) + ": strategy '" + config_.name +
                           "' with dp cannot fold a contribution part by part (clipping needs the whole delta: add() "
                           "it)");
}

void MeanAggregator::fold_part(int64_t offset, std::span<const float> delta_part, double coef) {
  check_folding("fold_part");
  check_part_range(offset, delta_part.size(), coef, "fold_part");
  if (delta_part.empty()) return;
  const std::span<const float> one[1] = {delta_part};
  const float c[1] = {static_cast<float>(coef)};
  weighted_sum(touch().subspan(static_cast<size_t>(offset), delta_part.size()), one, c, /*overwrite=*/false);
}

void MeanAggregator::unfold_part(int64_t offset, std::span<const float> delta_part, double coef) {
  check_folding("unfold_part");
  check_part_range(offset, delta_part.size(), coef, "unfold_part");
  if (!has_data_) throw std::logic_error("unfold_part: nothing was folded or added this round");
  if (delta_part.empty()) return;
  const std::span<const float> one[1] = {delta_part};
  // -(float)coef: the same float32 product as fold_part's, negated exactly.
  const float c[1] = {-static_cast<float>(coef)};
  weighted_sum(acc_.span().subspan(static_cast<size_t>(offset), delta_part.size()), one, c, /*overwrite=*/false);
}

void MeanAggregator::count_folded(double coef, double num_samples) {
  check_folding("count_folded");
  check_part_range(0, 0, coef, "count_folded");
  check_weights(num_samples, 1.0);
  weights_.reserve(weights_.size() + 1);
  touch();  // a counted contribution implies an accumulator with data (zero if no part was folded)
  weights_.push_back(coef);
}

void MeanAggregator::uncount_folded(double coef, double num_samples) {
  check_folding("uncount_folded");
  if (weights_.empty()) throw std::logic_error("uncount_folded: no contribution is counted this round");
  check_weights(num_samples, 1.0);
  // The latest contribution counted with exactly this coefficient (equal
  // values are interchangeable for the sum).
  for (auto it = weights_.rbegin(); it != weights_.rend(); ++it)
    if (*it == coef) {
      weights_.erase(std::next(it).base());
      return;
    }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", coef);
  throw std::invalid_argument(
      std::string("uncount_folded: no contribution of this round was counted with coefficient ") + buf);
}

double MeanAggregator::weight_sum() const {
  double s = 0;
  for (double w : weights_) s += w;
  return s;
}

std::span<const float> MeanAggregator::accumulated() const {
  if (!has_data_) return {};
  return acc_.span();
}

void MeanAggregator::check_state(const ServerState&) const {}

void MeanAggregator::step(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale,
                          ServerState&) {
  sgd_step_into(out, x, acc, scale, static_cast<float>(config_.server_lr));
}

void MeanAggregator::run(std::span<float> out, std::span<const float> x, ServerState& state) {
  if (weights_.empty()) throw std::logic_error("apply: no contributions to aggregate (strategy " + config_.name + ")");
  check_model(x);
  check_model(out);
  check_state(state);
  const bool adaptive = config_.dp.enabled && config_.dp.adaptive_clipping;
  if (adaptive) check_state_vector(state, kClipKey, 1);
  const auto m = static_cast<int64_t>(weights_.size());
  auto acc = acc_.span();
  float acc_scale;
  double next_clip = clip_norm_;
  uint64_t seed_used = 0;  // for noise_seed_used(): 0 unless noise is drawn
  if (config_.dp.enabled) {
    const auto& dp = config_.dp;
    // The recorded seed of a replayed merge (set_noise_seed), else the round's.
    const uint64_t seed = noise_seed_for(dp.seed, state.rounds);
    const double z = delta_noise_multiplier(dp.noise_multiplier, adaptive ? dp.count_noise_stddev : 0.0);
    const double sigma = dp_noise_stddev(z, clip_norm_, m);
    scale(acc, static_cast<float>(1.0 / static_cast<double>(m)));
    add_gaussian_noise(acc, sigma, seed);
    if (sigma > 0) seed_used = seed;
    acc_scale = 1.0f;
    if (adaptive) {
      double unclipped = static_cast<double>(unclipped_);
      if (dp.count_noise_stddev > 0) {
        seed_used = seed;
        std::mt19937_64 rng(seed ^ 0xA5A5A5A5A5A5A5A5ull);
        unclipped += std::normal_distribution<double>(0.0, dp.count_noise_stddev)(rng);
      }
      next_clip = adaptive_clip_norm(clip_norm_, unclipped / static_cast<double>(m), dp.target_unclipped_quantile,
                                     dp.clip_learning_rate);
    }
  } else {
    const double denom = config_.divide_by_count ? static_cast<double>(m) : weight_sum();
    acc_scale = static_cast<float>(1.0 / denom);
  }
  step(out, x, acc, acc_scale, state);
  if (adaptive) {
    state_vector(state, kClipKey, 1)[0] = static_cast<float>(next_clip);
    clip_norm_ = next_clip;
  }
  ++state.rounds;
  end_noise(seed_used);
  reset();
}

namespace {
bool shares_memory(std::span<const float> a, std::span<const float> b) {
  if (a.empty() || b.empty()) return false;
  const std::less<const float*> lt;
  return lt(a.data(), b.data() + b.size()) && lt(b.data(), a.data() + a.size());
}
}  // namespace

void MeanAggregator::apply(std::span<float> model, ServerState& state) {
  if (shares_memory(model, acc_.span()))
    throw std::invalid_argument("apply: the model overlaps the aggregator's accumulator");
  run(model, model, state);
}

void MeanAggregator::apply_to(std::span<const float> x, std::span<float> out, ServerState& state) {
  check_apply_to(x, out);
  if (shares_memory(x, acc_.span()) || shares_memory(out, acc_.span()))
    throw std::invalid_argument("apply_to: the model or the output overlaps the aggregator's accumulator");
  run(out, x, state);
}

std::optional<AlignedFloats> MeanAggregator::apply_into_accumulator(std::span<const float> x, ServerState& state) {
  if (shares_memory(x, acc_.span()))
    throw std::invalid_argument("apply_into_accumulator: the model overlaps the aggregator's accumulator");
  run(acc_.span(), x, state);  // throws (nothing modified) before any write
  std::optional<AlignedFloats> result(std::move(acc_));
  acc_ = AlignedFloats();  // empty: the next add or fold allocates a new accumulator
  return result;
}

void MeanAggregator::reset() {
  weights_.clear();
  has_data_ = false;
  unclipped_ = 0;
}

int64_t MeanAggregator::held_bytes() const {
  return static_cast<int64_t>(acc_.bytes());  // (plus 8 bytes per counted contribution, not counted)
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
