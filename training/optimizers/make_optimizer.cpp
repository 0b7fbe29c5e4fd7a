#include <cmath>
#include <stdexcept>
#include <string>

#include "training/optimizers/adam.hpp"
#include "training/optimizers/optimizer.hpp"
#include "training/optimizers/sgd.hpp"

namespace fedhub::training {

void Optimizer::step(std::span<float> params, std::span<const float> grads) {
  if (static_cast<int64_t>(params.size()) != size_ || static_cast<int64_t>(grads.size()) != size_)
    throw std::invalid_argument("optimizer: step over " + std::to_string(params.size()) + " parameters and " +
                                std::to_string(grads.size()) + " gradients, state made for " + std::to_string(size_));
  begin_step();
  apply(params.data(), grads.data(), 0, size_);
}

namespace {

void check(bool ok, const std::string& field, double value, const char* rule) {
  if (!ok) throw std::invalid_argument("optimizer: '" + field + "' = " + std::to_string(value) + " must be " + rule);
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& c, int64_t parameter_count) {
  if (parameter_count < 0) throw std::invalid_argument("optimizer: negative parameter count");
  check(std::isfinite(c.learning_rate) && c.learning_rate > 0, "learning_rate", c.learning_rate, "> 0");
  check(std::isfinite(c.weight_decay) && c.weight_decay >= 0, "weight_decay", c.weight_decay, ">= 0");
  if (c.name == "sgd") {
    check(c.momentum >= 0 && c.momentum < 1, "momentum", c.momentum, "in [0, 1)");
    return std::make_unique<Sgd>(parameter_count, static_cast<float>(c.learning_rate), static_cast<float>(c.momentum),
                                 c.nesterov, static_cast<float>(c.weight_decay));
  }
  if (c.name == "adam") {
    check(c.beta1 >= 0 && c.beta1 < 1, "beta1", c.beta1, "in [0, 1)");
    check(c.beta2 >= 0 && c.beta2 < 1, "beta2", c.beta2, "in [0, 1)");
    check(std::isfinite(c.epsilon) && c.epsilon > 0, "epsilon", c.epsilon, "> 0");
    return std::make_unique<Adam>(parameter_count, c.learning_rate, c.beta1, c.beta2, c.epsilon, c.weight_decay);
  }
  throw std::invalid_argument("optimizer: unknown 'name' \"" + c.name + "\" (use adam or sgd)");
}

}  // namespace fedhub::training
