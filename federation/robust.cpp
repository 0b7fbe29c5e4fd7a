#include "federation/robust.hpp"

#include <cstdio>
#include <stdexcept>

#include "federation/aggregate.hpp"

namespace fedhub::federation {

RobustAggregator::RobustAggregator(const AggregatorConfig& config, int64_t parameter_count)
    : Aggregator(parameter_count), config_(config.resolved()) {
  if (config_.dp.enabled) throw std::invalid_argument("dp needs a mean-based strategy, not '" + config_.name + "'");
}

void RobustAggregator::check(std::span<const float> delta, double num_samples, double staleness_factor) const {
  check_contribution(delta, num_samples, staleness_factor);
  if (const int64_t bad = first_non_finite(delta); bad >= 0)
    throw std::invalid_argument("contribution holds a non-finite value at index " + std::to_string(bad));
}

void RobustAggregator::keep(std::span<const float> delta, double staleness_factor) {
  std::vector<float> copy(delta.begin(), delta.end());
  if (staleness_factor != 1.0) scale(copy, static_cast<float>(staleness_factor));
  deltas_.push_back(std::move(copy));
}

void RobustAggregator::add(std::span<const float> delta, double num_samples, double staleness_factor) {
  check(delta, num_samples, staleness_factor);
  keep(delta, staleness_factor);
}

void RobustAggregator::add_many(std::span<const std::span<const float>> deltas, std::span<const double> num_samples,
                                std::span<const double> staleness_factors) {
  if (deltas.size() != num_samples.size() || deltas.size() != staleness_factors.size())
    throw std::invalid_argument("add_many: " + std::to_string(deltas.size()) + " deltas, " +
                                std::to_string(num_samples.size()) + " sample counts and " +
                                std::to_string(staleness_factors.size()) + " staleness factors");
  for (size_t k = 0; k < deltas.size(); ++k) check(deltas[k], num_samples[k], staleness_factors[k]);
  deltas_.reserve(deltas_.size() + deltas.size());
  for (size_t k = 0; k < deltas.size(); ++k) keep(deltas[k], staleness_factors[k]);
}

double RobustAggregator::weight_of(double num_samples, double staleness_factor) const {
  check_weights(num_samples, staleness_factor);
  return staleness_factor;
}

void RobustAggregator::apply(std::span<float> model, ServerState& state) {
  if (deltas_.empty()) throw std::logic_error("apply: no contributions to aggregate (strategy " + config_.name + ")");
  check_model(model);
  std::vector<std::span<const float>> views(deltas_.begin(), deltas_.end());
  std::vector<float> result(static_cast<size_t>(parameter_count()));
  aggregate(result, views);  // may throw (e.g. Krum's n > 2f + 2): nothing modified yet
  sgd_step(model, result, 1.0f, static_cast<float>(config_.server_lr));
  ++state.rounds;
  end_noise(0);  // no noise; clears a set_noise_seed()
  reset();
}

void RobustAggregator::apply_to(std::span<const float> x, std::span<float> out, ServerState& state) {
  if (deltas_.empty()) throw std::logic_error("apply: no contributions to aggregate (strategy " + config_.name + ")");
  check_apply_to(x, out);
  std::vector<std::span<const float>> views(deltas_.begin(), deltas_.end());
  // aggregate() checks (Krum's n > 2f + 2) before it writes anything.
  aggregate(out, views);
  sgd_step_into(out, x, out, 1.0f, static_cast<float>(config_.server_lr));
  ++state.rounds;
  end_noise(0);  // no noise; clears a set_noise_seed()
  reset();
}

void RobustAggregator::reset() {
  deltas_.clear();
  deltas_.shrink_to_fit();
}

int64_t RobustAggregator::held_bytes() const {
  return static_cast<int64_t>(deltas_.size()) * parameter_count() * static_cast<int64_t>(sizeof(float));
}

std::string RobustAggregator::describe_memory() const {
  char buf[128];
  std::snprintf(buf, sizeof buf, "all K deltas (K = %lld, %.1f MiB) plus one result during apply",
                static_cast<long long>(deltas_.size()), static_cast<double>(held_bytes()) / (1 << 20));
  return buf;
}

}  // namespace fedhub::federation
