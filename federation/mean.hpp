// MeanAggregator: the streaming weighted mean shared by every mean-based
// strategy (mean, fedavg, and the server optimizers, which derive from it and
// override step()).
//
// Memory: one accumulator of parameter_count floats (an AlignedFloats,
// 64-byte aligned), allocated on the first add or fold and kept for the
// following rounds, whatever the number of contributions, plus one double per
// counted contribution (its weight). apply_into_accumulator() hands the
// accumulator over as the new version; the next round allocates another.
// add() costs one pass (read delta, read+write the accumulator; the first
// add of a round writes without reading); add_many() one fused pass over all
// its deltas (aggregate.hpp, weighted_sum); fold_part() one pass over its
// range. The first fold of a round zeroes the accumulator first (one write
// pass), so a round can mix add() and folds: the accumulator "holds data"
// from the first add or fold until apply or reset, and add() overwrites only
// an accumulator that holds none.
//
// With dp enabled (dp.hpp) every delta is clipped to the current clip norm C
// as it is added (its norm costs one extra read pass), the mean is divided by
// the count m, and apply() adds N(0, (z C / m)^2) to every coordinate before
// the server step, then updates C when clipping is adaptive. Clipping needs
// the whole delta: with dp, can_fold_parts() is false.
#pragma once

#include <vector>

#include "federation/aggregator.hpp"
#include "model/aligned_floats.hpp"

namespace fedhub::federation {

class MeanAggregator : public Aggregator {
 public:
  // config (resolved here, see AggregatorConfig::resolved) must name a
  // mean-based strategy; state supplies the adaptive DP clip norm.
  MeanAggregator(const AggregatorConfig& config, int64_t parameter_count, const ServerState& state);

  void add(std::span<const float> delta, double num_samples, double staleness_factor) override;
  void add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                std::span<const double> staleness_factors) override;
  double weight_of(double num_samples, double staleness_factor) const override;
  bool can_fold_parts() const override { return !config_.dp.enabled; }
  void fold_part(int64_t offset, std::span<const float> delta_part, double coef) override;
  void unfold_part(int64_t offset, std::span<const float> delta_part, double coef) override;
  void count_folded(double coef, double num_samples) override;
  void uncount_folded(double coef, double num_samples) override;
  int64_t count() const override { return static_cast<int64_t>(weights_.size()); }
  // Computes the round's mean delta Dbar = acc / (sum of weights, or K with
  // divide_by_count or dp), adds DP noise if configured, then step().
  void apply(std::span<float> model, ServerState& state) override;
  // The same step, written to out (no copy of x is made).
  void apply_to(std::span<const float> x, std::span<float> out, ServerState& state) override;
  // Always returns the new version (never std::nullopt); throws like apply(),
  // and std::invalid_argument if x overlaps the accumulator.
  std::optional<AlignedFloats> apply_into_accumulator(std::span<const float> x, ServerState& state) override;
  void reset() override;
  int64_t held_bytes() const override;
  std::string describe_memory() const override;
  std::string name() const override { return config_.name; }

  // The clip norm the next contributions are clipped to (dp only).
  double clip_norm() const { return clip_norm_; }
  // The sum of the weights of the contributions counted this round (added or
  // count_folded), in double, summed in the order they were counted: it
  // depends only on the contributions currently counted and that order, so
  // uncount_folded restores it exactly.
  double weight_sum() const;
  // The accumulator (sum of coef * delta over what was added and folded this
  // round); empty while it holds no data (before the round's first add or
  // fold). For tests and diagnostics.
  std::span<const float> accumulated() const;

 protected:
  // Throws std::invalid_argument if `state` cannot be used by step() (a
  // vector of the wrong size); must not modify anything. Default: no check.
  virtual void check_state(const ServerState& state) const;
  // Writes x_{t+1} to out given Dbar = scale * acc. out is x (apply), acc
  // (apply_into_accumulator) or a separate buffer (apply_to): use the
  // aggregate.hpp *_step_into kernels, which allow both aliases. Default
  // (mean, fedavg, FedBuff): out = x + server_lr * Dbar.
  virtual void step(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale,
                    ServerState& state);

  const AggregatorConfig& config() const { return config_; }

 private:
  // The accumulator, allocated (uninitialised) if needed.
  std::span<float> storage();
  // The accumulator for a fold: zeroed if it holds no data yet.
  std::span<float> touch();
  // Shared by apply, apply_to and apply_into_accumulator: checks everything,
  // then writes x_{t+1} to out (out may be x or the accumulator) and resets.
  void run(std::span<float> out, std::span<const float> x, ServerState& state);
  void check_folding(const char* what) const;

  AggregatorConfig config_;
  AlignedFloats acc_;
  bool has_data_ = false;
  std::vector<double> weights_;  // one per counted contribution, in order
  // dp
  double clip_norm_ = 0;
  int64_t unclipped_ = 0;
};

}  // namespace fedhub::federation
