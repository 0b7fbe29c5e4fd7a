// MergeEngine: the arithmetic of one model's merges, without CAF. The merger
// actor (a detached thread) owns one; it does what the model actor (the
// owner of every decision, hub/model_core.hpp) tells it, with the snapshots
// it is given.
//
// It holds:
//   - the current version's weights (the published image, shared with the
//     model actor) and, when the staleness policy accepts older bases, the
//     images of those versions;
//   - the aggregator of the front round (the merge onto the current
//     version) and the server optimizer's state;
//   - the data of the uploads in progress: in fold mode each checked part is
//     folded into the aggregator at once (memory: nothing per upload); in
//     assemble mode the upload's delta is kept whole until its commit.
//
// Every part is checked once, in one pass (finite, |value| <= the policy's
// max_abs_value) while its delta is computed, and staged in the
// store (chunks, unsynced; the commit's synced batch makes it durable).
// Nothing of a contribution is read back from the store on this path; the
// store is read only for contributions that are not in memory: after a
// restart, or for an upload's folded parts that must leave the round being
// merged (unfolded, then folded into the next round).
//
// A merge computes the new weights into the accumulator's memory (no third
// model-sized buffer for mean-based aggregators), checks that they are
// finite, stores the version (pieces unsynced, then one synced batch with
// its info, the server state, the removal of the merged contributions and
// the pruned versions) and returns the new image. If anything fails nothing
// is stored and the engine rebuilds its aggregator from the store.
//
// A model with frozen layers (model/trainable_slice.hpp) uploads only its
// trainable tensors: deltas, the aggregator, the server state and the merge
// are in that smaller space (each base's trainable values gathered once),
// and the merge's result is expanded over the current version's frozen
// values, which no version ever changes.
//
// Not thread-safe. Methods that refuse throw RequestError.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "federation/aggregator.hpp"
#include "hub/model_core.hpp"
#include "messages/checksum.hpp"
#include "persistence/store.hpp"

namespace fedhub {

class MergeEngine {
 public:
  MergeEngine(Store& store, ModelDefinition definition, MergePolicy policy, SharedImage current,
              federation::ServerState state);
  ~MergeEngine();

  uint64_t current_version() const { return current_->version; }
  const SharedImage& current() const { return current_; }

  // ---- uploads
  // A new upload; its data is checked against the weights of its base (read
  // from the store when not in memory: unknown_version if pruned).
  void begin(const UploadSession& session);
  // Checks one part (its values: non_finite, magnitude_exceeded naming
  // tensor and index; its hash was checked with its request), computes its
  // delta, folds or keeps it, and stages it. On a refusal the upload is
  // dropped here; a part that does not follow (bad_request) is refused
  // without dropping it.
  void part(uint64_t upload_id, uint64_t offset, std::span<const char> bytes);
  struct Finalized {
    bool clipped = false;
    double norm = 0;
  };
  // Every byte has arrived: checks the data's hash (bad_checksum) and, in
  // assemble mode, the norm bound (norm_exceeded, or clips).
  Finalized finalize(uint64_t upload_id);
  // The upload is accepted (durably) as `note`, into the front round or a
  // later one.
  void committed(uint64_t upload_id, const ContributionNote& note);
  // The upload ends without acceptance: its folded data leaves the
  // aggregator and its staged chunks are deleted.
  void abort(uint64_t upload_id);

  // ---- merges
  MergeOutcome merge(const MergeOrder& order);

  // ---- the registry (docs/architecture.md, "Model registry commands")
  // A rollback: stores version base + 1 holding exactly the weights of
  // order.to_version (read from memory or the store: unknown_version when
  // pruned), with aggregator "rollback" and rolled_back_from, like a merge
  // without members: pieces unsynced, then one synced batch with its info,
  // the kept contributions' records rewritten for their new round, the
  // dropped ones removed (as merged) and the pruned versions. The kept and
  // open uploads join the new round. On failure nothing is stored.
  MergeOutcome rollback(const RollbackOrder& order);
  // Deletes everything of the model from the store in one synced batch
  // (every family's keys of the name and its record); the engine holds
  // nothing afterwards and must not be used again.
  void erase_model();

  // A new policy (already stored by the model actor). When it changes the
  // aggregation (aggregation_changes), the uploads in `ended` are dropped
  // (the model actor ended them) and the aggregator is rebuilt: every other
  // contribution's data is read again from the store when it joins a round.
  // The server state is reset when the aggregator changes.
  void set_policy(const MergePolicy& policy, const std::vector<uint64_t>& ended = {});

  // The state after the last merge (tests, the stored record).
  const federation::ServerState& server_state() const { return state_; }
  int64_t peak_held_bytes() const { return peak_held_bytes_; }

 private:
  struct Held;
  Held& held(uint64_t upload_id);
  std::span<const float> base_weights(uint64_t version);
  // The trainable values of a base (its whole weights unless layers are
  // frozen): what deltas, aggregators and the merge work on.
  std::span<const float> base_trainable(uint64_t version);
  void keep_bases();
  void fold_from_store(const ContributionNote& note, double coef, bool unfold);
  // The delta of an accepted contribution from its stored chunks, clipped as
  // it was (a recovered one: as the norm bound decides); sets h's hash and
  // norm when they are not known.
  AlignedFloats load_delta(Held& h, const ContributionNote& note);
  void new_aggregator();  // for the round onto current_; clears front_order_
  void prune_replay_inputs(StoreBatch& batch, uint64_t newest);
  void enter_front(Held& h, const ContributionNote& note);
  void rebuild_aggregator();
  void drop_held(uint64_t upload_id);
  void erase_staged(uint64_t upload_id);
  void start_round(const std::vector<std::pair<uint64_t, double>>& rebind);

  Store& store_;
  ModelDefinition def_;
  MergePolicy policy_;
  SharedImage current_;
  std::map<uint64_t, SharedImage> bases_;              // older versions' images, by version
  std::map<uint64_t, AlignedFloats> trainable_bases_;  // gathered trainable values, by version (frozen layers only)
  federation::ServerState state_;
  std::unique_ptr<federation::Aggregator> aggregator_;
  std::vector<uint64_t> front_order_;               // upload ids in the order they entered aggregator_
  std::map<uint64_t, std::unique_ptr<Held>> held_;  // by upload id
  std::vector<float> scratch_;                      // one part's delta
  int64_t peak_held_bytes_ = 0;
};

// The one synced batch that deletes everything of model `name`: the keys of
// the name in every family of the layout (persistence/store.hpp) and its
// record. API keys are not the model's and stay.
StoreBatch model_erasure(const std::string& name);

// Everything a model resumes from, read from the store (start-up and
// recovery of a failed merger): also deletes what a crash left half-made
// (chunks of uploads in progress, pieces of an uncommitted version).
struct LoadedModelState {
  ModelDefinition definition;
  MergePolicy policy;
  ModelCore::Recovered recovered;
  SharedImage image;
  federation::ServerState server_state;
};
// Throws RequestError(unknown_model) or (internal) naming the damaged record.
LoadedModelState load_model_state(Store& store, const std::string& name);

// The server state record: the aggregator it belongs to (its JSON) and
// federation::ServerState::serialize(). A state of another aggregator is
// read as empty (the aggregator changed).
Buffer server_state_record(const federation::AggregatorConfig& config, const federation::ServerState& state);
federation::ServerState read_server_state(std::span<const char> record, const federation::AggregatorConfig& config);

}  // namespace fedhub
