// FedAvgM (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data
// Distribution"), as Flower implements it: m = beta m + Dbar, x += lr m.
// State: "m". Defaults: lr 1.0, momentum 0.9.
#include "federation/aggregate.hpp"
#include "federation/mean.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

class FedAvgM final : public MeanAggregator {
 public:
  using MeanAggregator::MeanAggregator;

 protected:
  void check_state(const ServerState& s) const override { check_state_vector(s, "m", parameter_count()); }
  void step(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale,
            ServerState& s) override {
    fedavgm_step_into(out, x, state_vector(s, "m", parameter_count()), acc, scale,
                      static_cast<float>(config().server_lr), static_cast<float>(config().momentum));
  }
};

}  // namespace

namespace detail {
std::unique_ptr<Aggregator> make_fedavgm(const AggregatorConfig& c, int64_t n, const ServerState& s) {
  return std::make_unique<FedAvgM>(c, n, s);
}
}  // namespace detail

}  // namespace fedhub::federation
