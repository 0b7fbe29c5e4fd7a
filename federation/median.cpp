// Coordinate-wise median (Yin et al., ICML 2018): x += lr * median_k(f_k D_k)
// per coordinate; even K: mean of the two middle values. Default lr 1.0.
#include "federation/aggregate.hpp"
#include "federation/robust.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

class Median final : public RobustAggregator {
 public:
  using RobustAggregator::RobustAggregator;

 protected:
  void aggregate(std::span<float> out, std::span<const std::span<const float>> deltas) const override {
    coordinate_median(out, deltas);
  }
};

}  // namespace

namespace detail {
std::unique_ptr<Aggregator> make_median(const AggregatorConfig& c, int64_t n) { return std::make_unique<Median>(c, n); }
}  // namespace detail

}  // namespace fedhub::federation
