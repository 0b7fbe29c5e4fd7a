// What a participant waits for after its upload: one sentence naming what
// makes the model's next version under its merge policy (a manager's merge,
// k waiting contributions, a timer, or the next contribution), so that
// `fl-participant run --rounds N` does not sit silent between rounds.
#pragma once

#include <cstdint>
#include <string>

namespace fedhub::cli {

struct ModelProgress {
  std::string model;
  uint64_t version = 0;     // the version just contributed to
  std::string policy_json;  // the merge policy in force (docs/aggregation.md)
  uint64_t pending = 0;     // contributions waiting for the current version
  uint64_t min_contributions = 1;
};

// E.g. "waiting for version 4 of 'fmnist': it merges manually, when a manager
// runs `fl-manager merge fmnist` (2 contributions waiting)". A policy that
// cannot be read gives the sentence without its rule.
std::string next_version_hint(const ModelProgress& p);

}  // namespace fedhub::cli
