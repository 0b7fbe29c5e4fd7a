// FedYogi (Reddi et al., ICLR 2021): m = b1 m + (1-b1) Dbar;
// v = v - (1-b2) Dbar^2 sign(v - Dbar^2); x += lr m / (sqrt(v) + tau).
// State: "m", "v" (zero-initialised, as Flower). Defaults (Flower): lr 0.01,
// b1 0.9, b2 0.99, tau 1e-3.
#include "federation/aggregate.hpp"
#include "federation/mean.hpp"
#include "federation/strategies.hpp"

namespace fedhub::federation {
namespace {

class FedYogi final : public MeanAggregator {
 public:
  using MeanAggregator::MeanAggregator;

 protected:
  void check_state(const ServerState& s) const override {
    check_state_vector(s, "m", parameter_count());
    check_state_vector(s, "v", parameter_count());
  }
  void step(std::span<float> out, std::span<const float> x, std::span<const float> acc, float scale,
            ServerState& s) override {
    const auto& c = config();
    fedyogi_step_into(out, x, state_vector(s, "m", parameter_count()), state_vector(s, "v", parameter_count()), acc,
                      scale, static_cast<float>(c.server_lr), static_cast<float>(c.beta1), static_cast<float>(c.beta2),
                      static_cast<float>(c.tau));
  }
};

}  // namespace

namespace detail {
std::unique_ptr<Aggregator> make_fedyogi(const AggregatorConfig& c, int64_t n, const ServerState& s) {
  return std::make_unique<FedYogi>(c, n, s);
}
}  // namespace detail

}  // namespace fedhub::federation
