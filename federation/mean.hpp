// MeanAggregator: the streaming weighted mean shared by every mean-based
// strategy (mean, fedavg, and the server optimizers, which derive from it and
// override step()).
//
// Memory: one accumulator of parameter_count floats (64-byte aligned,
// allocated on the first add and kept for the following rounds), whatever the
// number of contributions. add() costs one pass (read delta, read+write the
// accumulator; the first add of a round writes without reading); add_many()
// one fused pass over all its deltas (aggregate.hpp, weighted_sum).
//
// With dp enabled (dp.hpp) every delta is clipped to the current clip norm C
// as it is added (its norm costs one extra read pass), the mean is divided by
// the count m, and apply() adds N(0, (z C / m)^2) to every coordinate before
// the server step, then updates C when clipping is adaptive.
#pragma once

#include <cstdlib>
#include <memory>

#include "federation/aggregator.hpp"

namespace fedhub::federation {

class MeanAggregator : public Aggregator {
 public:
  // config (resolved here, see AggregatorConfig::resolved) must name a
  // mean-based strategy; state supplies the adaptive DP clip norm.
  MeanAggregator(const AggregatorConfig& config, int64_t parameter_count, const ServerState& state);

  void add(std::span<const float> delta, double num_samples, double staleness_factor) override;
  void add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                std::span<const double> staleness_factors) override;
  int64_t count() const override { return count_; }
  // Computes the round's mean delta Dbar = acc / (sum of weights, or K with
  // divide_by_count or dp), adds DP noise if configured, then step().
  void apply(std::span<float> model, ServerState& state) override;
  void reset() override;
  int64_t held_bytes() const override;
  std::string describe_memory() const override;
  std::string name() const override { return config_.name; }

  // The clip norm the next contributions are clipped to (dp only).
  double clip_norm() const { return clip_norm_; }

 protected:
  // Throws std::invalid_argument if `state` cannot be used by step() (a
  // vector of the wrong size); must not modify anything. Default: no check.
  virtual void check_state(const ServerState& state) const;
  // Applies Dbar = scale * acc to model. Default (mean, fedavg, FedBuff):
  // model += server_lr * Dbar.
  virtual void step(std::span<float> model, std::span<const float> acc, float scale, ServerState& state);

  const AggregatorConfig& config() const { return config_; }

 private:
  struct FreeDeleter {
    void operator()(float* p) const { std::free(p); }
  };
  // The weight of one contribution (throws on an invalid one).
  double weight_of(double num_samples, double staleness_factor) const;
  std::span<float> accumulator();

  AggregatorConfig config_;
  std::unique_ptr<float, FreeDeleter> acc_;
  int64_t count_ = 0;
  double weight_sum_ = 0;
  // dp
  double clip_norm_ = 0;
  int64_t unclipped_ = 0;
};

}  // namespace fedhub::federation
