// Coordinate-wise trimmed mean (Yin et al., ICML 2018): per coordinate, drop
// the floor(beta K) smallest and as many largest of f_k D_k, average the rest;
// x += lr * that. Defaults: beta (trim_beta) 0.1, lr 1.0.
#include "federation/aggregate.hpp"
#include "federation/robust.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

class TrimmedMean final : public RobustAggregator {
 public:
  using RobustAggregator::RobustAggregator;

 protected:
  void aggregate(std::span<float> out, std::span<const std::span<const float>> deltas) const override {
    trimmed_mean(out, deltas, config().trim_beta);
  }
};

}  // namespace

namespace detail {
std::unique_ptr<Aggregator> make_trimmed_mean(const AggregatorConfig& c, int64_t n) {
  return std::make_unique<TrimmedMean>(c, n);
}
}  // namespace detail

}  // namespace fedhub::federation
