// How a model merges contributions: stored with the model as JSON, chosen by
// the manager and changeable at run time (fl-manager policy). Example:
//
//   {"merge":"buffered","k":10,
//    "staleness":{"kind":"fedbuff","max_staleness":4},
//    "aggregator":{"name":"fedadam"},
//    "norm_bound":0,"on_norm_exceeded":"reject",
//    "interval_seconds":0,"retain_versions":5,"replay_versions":5,"max_abs_value":1e6}
//
// merge:
//   manual    the paper: merge on the manager's command (fl-manager merge)
//   buffered  FedBuff: merge as soon as k accepted contributions are waiting
//   async     FedAsync: mix each accepted contribution in at once,
//             x = (1 - a_t) x + a_t x_new with a_t = alpha * f(staleness)
// staleness: federation::StalenessPolicy (drop = the paper's rule: only the
//   current version is accepted). Contributions are applied as deltas
//   against their own base version.
// aggregator: federation::AggregatorConfig (not used by async).
// norm_bound: L2 bound of an update (0 = none); on_norm_exceeded "reject"
//   (error norm_exceeded at upload) or "clip" (scaled down when merged).
// interval_seconds: also merge every T seconds when at least the model's
//   min_contributions are waiting (0 = off; not with async).
// retain_versions: versions whose weights are kept (at least
//   max_staleness + 1 are always kept); older weights are pruned, their
//   version info stays.
// replay_versions: the newest versions whose merge inputs (the merged
//   contributions' weights and the server state the merge started from) are
//   kept so that `fl-manager verify` can replay them (hub/replay.hpp; 0 =
//   none). A version is replayable while these and the weights of its base
//   and of its contributions' bases are kept (retain_versions).
// max_abs_value: every uploaded value must satisfy |v| <= max_abs_value, or
//   the upload is refused with magnitude_exceeded before it is acknowledged
//   (0 = no bound; default 1e6), so that no contribution can overflow a merge.
// evaluation: {"data": SPEC, "labels": FILE}: every new version is
//   evaluated on this source of the hub's machine, off the request path.
// scoring: {"loo_max_contributions": 10, "flag_margin": 0,
//   "exclude_flagged": false}: contribution scores and flags (docs/crowd.md).
// excluded: participants refused with `excluded` (fl-manager unflag lifts).
// Integers are range-checked: k and retain_versions 1..1e6, replay_versions 0..1e6, max_staleness
// -1 (no bound)..1e6; interval_seconds 0..1e7.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "federation/aggregator.hpp"
#include "federation/staleness.hpp"

namespace fedhub {

enum class MergeMode { manual, buffered, async };

struct MergePolicy {
  MergeMode merge = MergeMode::manual;
  int64_t k = 10;      // buffered
  double alpha = 0.6;  // async (FedAsync's experiments used 0.6)
  federation::StalenessPolicy staleness;
  federation::AggregatorConfig aggregator;
  double norm_bound = 0;
  bool clip_to_norm = false;  // on_norm_exceeded: false = reject, true = clip
  double interval_seconds = 0;
  int64_t retain_versions = 5;
  int64_t replay_versions = 5;
  // Hub-side evaluation (docs/crowd.md): a data source on the hub's machine
  // (datasets/dataset.hpp SPEC; "" = none) and the class names of
  // index-labelled sources.
  std::string eval_data;
  std::string eval_labels;
  // Contribution scores: leave-one-out evaluations for merges of 2 to this
  // many contributions (0 = none); flag a contribution whose score is below
  // median - flag_margin * |median| of its merge (hub/version_scores.hpp;
  // 0 = off); exclude flagged participants.
  int64_t loo_max_contributions = 10;
  double flag_margin = 0;
  bool exclude_flagged = false;
  // Participants whose uploads are refused with `excluded`.
  std::set<std::string> excluded;
  double max_abs_value = 1e6;

  // The oldest base version accepted when the model is at `current`.
  uint64_t oldest_accepted_base(uint64_t current) const;
  // Versions whose weights must be kept.
  int64_t versions_to_keep() const;

  std::string to_json() const;
  // Reads a policy; an empty string gives the defaults. Throws
  // std::invalid_argument naming an unknown key or a bad value.
  static MergePolicy from_json(const std::string& json);
  // This policy with the keys present in `json_patch` replaced ("aggregator"
  // and "staleness" are patched key by key too). Throws like from_json.
  MergePolicy patched(const std::string& json_patch) const;
};

const char* to_string(MergeMode m);

}  // namespace fedhub
