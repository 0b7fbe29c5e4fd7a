// The leaderboard of a model (fl-manager leaderboard, fl-participant
// standing): each participant's contributions over the model's history,
// from the provenance and scores records in the store (docs/crowd.md).
//
// A participant's score is the mean leave-one-out change of evaluation
// loss of its scored contributions (> 0: the model got better with them)
// when any participant of the model has one; otherwise the mean cosine
// similarity of its deltas to the merged updates. Rows are ranked by score,
// best first; rows without a score come last.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "persistence/store.hpp"

namespace fedhub {

struct LeaderboardRow {
  std::string participant;
  uint64_t contributions = 0;  // merged ones
  uint64_t samples = 0;
  double mean_weight_share = 0;
  double mean_staleness = 0;
  uint64_t scored = 0;        // contributions with a cosine
  double mean_cosine = 0;     // NaN when none
  uint64_t loo_scored = 0;    // contributions with a leave-one-out
  double mean_loo = 0;        // NaN when none
  double score = 0;           // NaN when none
  uint64_t flagged = 0;       // contributions flagged
  bool excluded = false;      // its uploads are refused (the policy's excluded)
  uint64_t last_version = 0;  // the newest version it contributed to
};

struct Leaderboard {
  std::string score_kind;  // "leave_one_out" or "cosine"
  std::vector<LeaderboardRow> rows;
};

// Reads every provenance and scores record of `model`. `excluded`: the
// policy's excluded participants.
Leaderboard compute_leaderboard(const Store& store, const std::string& model, const std::vector<std::string>& excluded);

}  // namespace fedhub
