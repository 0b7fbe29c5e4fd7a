// Merging: the model's pending contributions become its next version (the
// paper's step 4), by the model's merge policy (hub/merge_policy.hpp).
//
// A MergeEngine holds one model's merge state: the current weights, the
// aggregator with every pending contribution folded in as it arrived (so a
// FedAvg merge of K contributions holds one model plus one accumulator, not K
// models), and the server optimizer's state. Each merge stores the new
// version, its info, the model record (current version, server state) and
// the removal of the merged pending entries, contribution weights and pruned
// versions in one synced batch; nothing is written when a merge throws.
// After a crash, a new engine folds the pending contributions again from
// the store. Not thread-safe: the merger actor owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "federation/aggregator.hpp"
#include "hub/merge_policy.hpp"
#include "hub/model_state.hpp"
#include "hub/version_cache.hpp"
#include "persistence/store.hpp"

namespace fedhub {

struct MergeResult {
  uint64_t base_version = 0;
  uint64_t new_version = 0;
  Buffer version_record;     // the stored ModelVersion
  std::string server_state;  // the aggregator state after this merge
  std::vector<std::string> contributors;
  uint64_t total_samples = 0;
  std::vector<fb::MergedContributionT> contributions;
  uint32_t dropped = 0;         // rejected by the staleness policy at merge time
  int64_t peak_held_bytes = 0;  // the aggregator's memory besides the model
  std::string aggregator;
};

class MergeEngine {
 public:
  // Loads the model's durable state and folds its pending contributions.
  // Throws RequestError(unknown_model) or (internal) for damaged records.
  MergeEngine(Store& store, const std::string& model);
  ~MergeEngine();

  uint64_t current_version() const { return model_.current_version; }
  const MergePolicy& policy() const { return model_.policy; }
  // Contributions waiting for the next merge.
  size_t pending() const { return folded_.size() + queued_.size(); }

  // Folds the pending contribution `seq` (its ContributionSummary buffer)
  // into the aggregator (async: queues it). One whose staleness the policy
  // rejects by now, or whose update exceeds a rejecting norm bound, is
  // dropped: removed from the pending list at once (synced), never merged,
  // and counted in the next merge's report. Sequence numbers
  // grow; a seq not above the highest folded so far was folded already (from
  // the store, when the engine started) and is ignored.
  void fold(uint64_t seq, std::span<const char> summary);

  // True when the policy wants a merge now: buffered with k waiting, async
  // with any waiting. (The interval trigger is the caller's clock.)
  bool due() const;

  // A merge on command: `base` must be the current version and at least the
  // model's min_contributions must be waiting. Async models mix their queue.
  // Throws RequestError (unknown_version, base_not_current,
  // not_enough_contributions).
  std::vector<MergeResult> merge(uint64_t base);

  // The merges the policy wants now (empty if none): buffered/interval one
  // version, async one version per waiting contribution.
  std::vector<MergeResult> merge_due();

  // Merges if at least min_contributions are waiting (the interval trigger).
  std::vector<MergeResult> merge_if_enough();

  // Replaces the policy: stores the model record with it (synced) and folds
  // the pending contributions again with the new aggregator. The server
  // state is reset when the aggregator changes.
  void set_policy(const MergePolicy& policy);

 private:
  struct Folded {
    uint64_t seq;
    fb::MergedContributionT info;
  };

  void refold_all();
  void drop(Folded f);
  // x_local - x_base of a stored contribution, clipped to (or *rejected by)
  // the policy's norm bound.
  std::vector<float> delta_of(uint64_t base_version, const std::string& participant, bool* clipped, bool* rejected);
  MergeResult commit(std::vector<Folded> merged, const std::string& aggregator_name);
  std::vector<MergeResult> merge_buffer();
  void keep_as_base(uint64_t version, std::vector<float> weights);
  std::vector<MergeResult> mix_queue();
  Store::MergeCleanup cleanup_for(const std::vector<Folded>& merged, uint64_t new_version);

  Store& store_;
  ModelState model_;
  std::vector<float> x_;  // the current version's weights
  VersionCache bases_;
  federation::ServerState state_;
  std::unique_ptr<federation::Aggregator> aggregator_;
  std::vector<Folded> folded_;   // in the aggregator (manual, buffered)
  std::vector<Folded> queued_;   // waiting to be mixed (async)
  std::vector<Folded> dropped_;  // dropped since the last merge (reported by it)
  std::set<uint64_t> stored_versions_;
  int64_t peak_held_bytes_ = 0;
  std::optional<uint64_t> last_seq_;  // the highest sequence number folded
};

// One manual merge of `base` with a fresh engine (tests and tools).
MergeResult run_merge(Store& store, const ModelState& model, uint64_t base);

}  // namespace fedhub
