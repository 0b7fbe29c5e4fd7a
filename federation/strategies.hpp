// Internal: one factory per strategy class, used by make_aggregator. Each takes
// a config already resolved (AggregatorConfig::resolved).
#pragma once

#include <memory>

#include "federation/aggregator.hpp"

namespace fedhub::federation::detail {

std::unique_ptr<Aggregator> make_mean(const AggregatorConfig& c, int64_t n, const ServerState& s);  // mean, fedavg
std::unique_ptr<Aggregator> make_fedavgm(const AggregatorConfig& c, int64_t n, const ServerState& s);
std::unique_ptr<Aggregator> make_fedadam(const AggregatorConfig& c, int64_t n, const ServerState& s);
std::unique_ptr<Aggregator> make_fedyogi(const AggregatorConfig& c, int64_t n, const ServerState& s);
std::unique_ptr<Aggregator> make_fedadagrad(const AggregatorConfig& c, int64_t n, const ServerState& s);
std::unique_ptr<Aggregator> make_median(const AggregatorConfig& c, int64_t n);
std::unique_ptr<Aggregator> make_trimmed_mean(const AggregatorConfig& c, int64_t n);
std::unique_ptr<Aggregator> make_krum(const AggregatorConfig& c, int64_t n);

}  // namespace fedhub::federation::detail
