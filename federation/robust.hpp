// RobustAggregator: the common part of the strategies that need every
// contribution at once (median, trimmed-mean, krum).
//
// add() copies f * delta (f = the staleness factor; sample counts are ignored:
// they are claims an untrusted contributor controls, and the robust statistic
// is what bounds each contributor's influence). Memory: all K deltas (K models
// of floats) until apply, plus one model-sized result during apply (none with
// apply_to, which builds the result in its output). They cannot fold parts
// (can_fold_parts() is false) and have no accumulator to hand over
// (apply_into_accumulator() returns std::nullopt).
#pragma once

#include <vector>

#include "federation/aggregator.hpp"

namespace fedhub::federation {

class RobustAggregator : public Aggregator {
 public:
  // config is resolved here (AggregatorConfig::resolved); dp is refused.
  RobustAggregator(const AggregatorConfig& config, int64_t parameter_count);

  // Copies staleness_factor * delta; throws std::invalid_argument also for a
  // non-finite value (sorting-based statistics cannot order NaN).
  void add(std::span<const float> delta, double num_samples, double staleness_factor) override;
  // All checked (as add) before any is copied.
  void add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                std::span<const double> staleness_factors) override;
  // staleness_factor: the scale of the copy add() keeps (sample counts are
  // checked, then ignored). Throws like add() for bad weights.
  double weight_of(double num_samples, double staleness_factor) const override;
  int64_t count() const override { return static_cast<int64_t>(deltas_.size()); }
  // model += server_lr * aggregate(deltas).
  void apply(std::span<float> model, ServerState& state) override;
  // out = x + server_lr * aggregate(deltas), the aggregate computed in out
  // itself (no extra model-sized buffer). Nothing is written when it throws.
  void apply_to(std::span<const float> x, std::span<float> out, ServerState& state) override;
  void reset() override;
  int64_t held_bytes() const override;
  std::string describe_memory() const override;
  std::string name() const override { return config_.name; }

 protected:
  // Writes the robust aggregate of `deltas` into out (parameter_count values).
  // Throws std::invalid_argument if it cannot (too few contributions).
  virtual void aggregate(std::span<float> out, std::span<const std::span<const float>> deltas) const = 0;
  const AggregatorConfig& config() const { return config_; }

 private:
  void check(std::span<const float> delta, double num_samples, double staleness_factor) const;
  void keep(std::span<const float> delta, double staleness_factor);

  AggregatorConfig config_;
  std::vector<std::vector<float>> deltas_;
};

}  // namespace fedhub::federation
