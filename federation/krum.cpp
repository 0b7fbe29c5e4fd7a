// Krum and Multi-Krum (Blanchard et al., NeurIPS 2017): with n contributions
// of which at most f are Byzantine (needs n > 2f + 2), score each delta by the
// sum of squared distances to its n - f - 2 nearest others; Krum takes the
// lowest-scored delta, Multi-Krum (m > 1) the plain mean of the m
// lowest-scored. x += lr * that. Defaults: f (krum_byzantine) 0, m
// (multi_krum) 1, lr 1.0.
#include "federation/aggregate.hpp"
#include "federation/robust.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

class Krum final : public RobustAggregator {
 public:
  using RobustAggregator::RobustAggregator;

 protected:
  void aggregate(std::span<float> out, std::span<const std::span<const float>> deltas) const override {
    const auto chosen = krum_select(deltas, config().krum_byzantine, config().multi_krum);
    mean_of(out, deltas, chosen);
  }
};

}  // namespace

namespace detail {
std::unique_ptr<Aggregator> make_krum(const AggregatorConfig& c, int64_t n) { return std::make_unique<Krum>(c, n); }
}  // namespace detail

}  // namespace fedhub::federation
