// How a model merges contributions, stored with the model as JSON:
//
//   {"merge":"manual","aggregator":{"name":"fedavg"}}
//
// "merge": "manual" (the paper: merge on the manager's command).
// "aggregator": federation::AggregatorConfig (docs/aggregation.md); "fedavg"
// weights by sample count, "mean" is the paper's plain mean.
#pragma once

#include <string>

#include "federation/aggregator.hpp"

namespace fedhub {

struct MergePolicy {
  std::string merge = "manual";
  federation::AggregatorConfig aggregator;

  std::string to_json() const;
  // An empty string gives the defaults. Throws std::invalid_argument naming
  // an unknown key or value.
  static MergePolicy from_json(const std::string& json);
};

}  // namespace fedhub
