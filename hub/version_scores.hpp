// The scores of a version (docs/crowd.md), computed from the store alone on
// the hub's scorer thread (actors/scorer_actor.hpp), never in a request
// handler:
//   - the hub-side evaluation of the version (accuracy, loss, per-class
//     accuracy) on the policy's evaluation source;
//   - for each contribution merged into it, the cosine similarity of its
//     delta (as merged) to the merged update, and, with an evaluation
//     source and 2 to loo_max_contributions contributions, the
//     leave-one-out change of evaluation loss: the merge is re-run from the
//     stored inputs without it (hub/replay.hpp) and evaluated;
//   - flags (3 or more contributions): a contribution whose score is below
//     median - flag_margin * |median| of its merge's scores, the scores being
//     the leave-one-out changes when every contribution has one, else the
//     cosines (so flag_margin is a fraction of the median, without units).
// Costs: one evaluation per version, and K more merges and evaluations for
// a leave-one-out of K contributions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "datasets/dataset.hpp"
#include "hub/merge_policy.hpp"
#include "hub/model_core.hpp"
#include "messages/scores_generated.h"
#include "model/architecture.hpp"
#include "persistence/store.hpp"

namespace fedhub {

class VersionScorer {
 public:
  VersionScorer(const Store& store, ModelDefinition definition);

  // The scores of `version` under `policy` (its evaluation and scoring
  // settings). What cannot be computed is said in `note` (a source that
  // does not load, pruned inputs); never throws for those.
  fb::VersionScoresT score(uint64_t version, const MergePolicy& policy);

 private:
  const datasets::Dataset* evaluation_data(const MergePolicy& policy, std::string* problem);

  const Store& store_;
  ModelDefinition def_;
  Architecture arch_;
  std::string loaded_source_;  // data + "\n" + labels of the cached dataset
  std::optional<datasets::Dataset> data_;
};

// Sets the flags of a merge's contributions under flag_margin (see above;
// pure; NaN scores are never flagged and do not count).
void flag_contributions(fb::VersionScoresT& scores, double flag_margin);

}  // namespace fedhub
