// ModelCore: the one owner of a model's state in the hub. It decides; it
// does no I/O and no arithmetic on weights (the model actor holds it and
// hands the work to the merger, the journal and the readers, with the
// snapshots this class gives out).
//
// What it owns:
//   - the model's definition (name, layout, limits) and merge policy;
//   - the current version, its published package (an immutable shared
//     image) and the history of versions;
//   - the filter state of every base whose weights are stored (who has
//     contributed to which version: duplicates are refused);
//   - the upload sessions in progress;
//   - the rounds: accepted contributions waiting for their merge.
//
// Rounds. Round r collects the contributions that the merge producing
// version r + 1 will use. rounds_.front() is built on the current version;
// the last round is the open one, to which a new acceptance is assigned.
// A round closes when the policy says (buffered: k assigned; async: one;
// manual: the manager's merge command; interval: the timer) and a new open
// round is pushed behind it. A closed round is merged once every
// acceptance assigned to it is durable, in order, one at a time.
//
// Acceptance is decided once, when a contribution is committed: it is
// assigned to the open round with staleness s = round - base and factor
// f(s) from the policy, and refused (`stale`) if the policy does not accept
// that; an accepted contribution is then certain to be merged (never
// dropped later), with that factor.
//
// Not thread-safe: one actor owns it. Every method that refuses throws
// RequestError (messages/errors.hpp) and changes nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hub/merge_policy.hpp"
#include "hub/version_image.hpp"
#include "messages/errors.hpp"
#include "messages/tensors.hpp"
#include "model/architecture.hpp"
#include "model/tensor.hpp"
#include "model/trainable_slice.hpp"

namespace fedhub {

// What never changes after a model's creation.
struct ModelDefinition {
  std::string name;
  Buffer spec;                     // the ModelSpec as a FlatBuffer (messages/), for package headers
  std::vector<TensorSpec> layout;  // a version's tensors: every parameter
  uint64_t parameters = 0;
  // A contribution's tensors: the trainable ones (all of layout unless
  // layers are frozen). Uploads, deltas, aggregators and server state are
  // in this space; a merge expands its result over the base's frozen values.
  TrainableSlice trainable;
  uint32_t labels = 0;
  uint32_t min_contributions = 1;
  uint64_t created_at_ms = 0;

  uint64_t data_bytes() const { return parameters * sizeof(float); }  // a version's data section
  uint64_t contribution_bytes() const { return trainable.bytes(); }   // a contribution's
  uint64_t contribution_parameters() const { return trainable.parameters(); }
  const std::vector<TensorSpec>& contribution_layout() const { return trainable.layout(); }
};

// Sets layout, parameters and trainable from the architecture.
void set_layout(ModelDefinition& definition, const Architecture& architecture);

// Checks a contribution header's tensors against the model's trainable ones
// (messages/tensors.hpp check_tensor_infos); for a model with frozen layers
// the error also says what a contribution carries. Throws RequestError.
void check_contribution_tensors(const ModelDefinition& definition, const FbTensors* tensors);

// One accepted contribution without its weights: the filter state, the
// status listing and a pending round member.
struct ContributionNote {
  std::string participant;
  uint64_t base_version = 0;
  uint64_t num_samples = 0;
  uint64_t received_at_ms = 0;
  uint64_t round_base = 0;  // the version it is merged onto
  double factor = 1;        // the staleness factor f(round_base - base_version)
  uint64_t upload_id = 0;
  uint64_t seq = 0;  // its pending entry
  std::vector<std::pair<std::string, double>> metrics;

  uint64_t staleness() const { return round_base - base_version; }
};

// One version without its weights.
struct VersionNote {
  uint64_t version = 0;
  uint64_t created_at_ms = 0;
  uint64_t base_version = 0;
  uint32_t contributions = 0;
  uint64_t total_samples = 0;
  std::string aggregator;
  uint64_t package_bytes = 0;
  uint64_t data_hash = 0;
  int64_t rolled_back_from = -1;  // a rollback's version: whose weights it holds
};

// How an upload's data reaches the aggregator (see docs/architecture.md):
// fold: each part is folded into the round's running sum as it arrives
//       (mean-based aggregators without DP, norm bound or async mixing, for
//       models of at least fold_threshold_bytes);
// assemble: the delta is kept whole until the commit.
enum class UploadMode { fold, assemble };

UploadMode upload_mode(const MergePolicy& policy, uint64_t data_bytes, uint64_t fold_threshold_bytes);

// Whether changing the policy from `a` to `b` changes how contributions are
// aggregated (the merger rebuilds its aggregator, open uploads end).
bool aggregation_changes(const MergePolicy& a, const MergePolicy& b);

struct UploadSession {
  enum class State { receiving, finalizing, committing };
  uint64_t id = 0;
  ContributionNote note;  // participant, base, samples, metrics; round fields set at commit
  uint64_t data_bytes = 0;
  uint64_t data_hash = 0;
  uint64_t forwarded = 0;  // bytes handed to the merger
  uint64_t stored = 0;     // bytes the merger has checked and staged
  uint64_t last_activity_ms = 0;
  double factor = 1;  // the factor its data is folded with now
  UploadMode mode = UploadMode::assemble;
  Buffer header;  // the Contribution header as the participant sent it (stored with it)
  // A merge made its base unacceptable (the merger dropped its data): its
  // next request is answered `stale` and ends it.
  bool doomed = false;
  State state = State::receiving;
};

// An upload refused while a round was open: recorded in the provenance of
// the version that round becomes (messages/schemas/provenance.fbs).
struct RefusedNote {
  std::string participant;
  uint64_t base_version = 0;
  std::string error;  // the error code's name
  std::string message;
  uint64_t at_ms = 0;
};

// A merge for the merger to run: everything it needs, by value.
struct MergeOrder {
  uint64_t base_version = 0;
  std::vector<ContributionNote> members;
  // Open uploads whose data the merger holds: the factor they fold with in
  // the round that stays open (0: the policy no longer accepts them).
  std::vector<std::pair<uint64_t, double>> rebind;
  MergePolicy policy;
  std::vector<uint64_t> prune;  // versions whose weights this merge deletes
  // The uploads refused since the last merge (the first kMaxRefusalNotes)
  // and how many there were.
  std::vector<RefusedNote> refused;
  uint64_t refused_total = 0;
};

// A rollback for the merger to run: a new version current + 1 holding the
// weights of `to_version`, built like a merge without members. The pending
// contributions are re-assigned to the round onto the new version: `kept`
// with their new round and factor (their records are rewritten), `dropped`
// when the staleness policy no longer accepts their base (removed as if
// merged; their filter summaries stay).
struct RollbackOrder {
  uint64_t to_version = 0;
  uint64_t base_version = 0;  // the current version it replaces
  std::vector<ContributionNote> kept;
  std::vector<ContributionNote> dropped;
  // Open uploads whose data the merger holds: their factor in the new
  // round (0: not accepted any more; the merger drops them).
  std::vector<std::pair<uint64_t, double>> rebind;
  std::vector<uint64_t> prune;  // versions whose weights this rollback deletes
};

// How one contribution entered a merge (receipts and events).
struct MergedNote {
  std::string participant;
  uint64_t base_version = 0;
  uint64_t staleness = 0;
  uint64_t num_samples = 0;
  double weight = 0;  // f(s), or alpha_t for async mixing
  bool clipped = false;
};

struct MergeOutcome {
  SharedImage image;  // the new version
  VersionNote note;
  std::vector<MergedNote> merged;
};

struct ModelSummaryInfo {
  std::string name;
  uint64_t current_version = 0;
  uint32_t pending = 0;
  uint32_t min_contributions = 1;
  uint64_t parameters = 0;
  uint32_t labels = 0;
  uint64_t created_at_ms = 0;
  bool merging = false;
  std::string policy_json;
  bool archived = false;
  uint64_t oldest_retained = 0;
  uint32_t open_uploads = 0;
};

class ModelCore {
 public:
  struct Limits {
    uint64_t max_samples = 1ull << 40;  // per contribution
    uint64_t part_bytes = 4ull << 20;   // largest upload part
    uint32_t window = 4;                // parts a client may have in flight
    uint64_t session_idle_ms = 120000;  // an upload idle this long is abandoned
    uint32_t max_sessions = 64;         // uploads in progress per model
    uint32_t max_sessions_per_key = 8;  // of them, by one key (quota_open_uploads)
    uint64_t fold_threshold_bytes = 64ull << 20;
  };

  // The durable state a model resumes from (read by the loader).
  struct Recovered {
    uint64_t current_version = 0;
    std::vector<VersionNote> versions;      // oldest first
    uint64_t oldest_stored = 0;             // versions >= this have weights
    std::vector<ContributionNote> notes;    // filter state of bases >= oldest_stored
    std::vector<ContributionNote> pending;  // accepted, not merged, by seq
    uint64_t next_seq = 0;
    bool archived = false;  // read-only (stored in the model record)
  };

  ModelCore(ModelDefinition definition, MergePolicy policy, Recovered recovered, SharedImage published, Limits limits);

  const ModelDefinition& definition() const { return def_; }
  const std::string& name() const { return def_.name; }
  const MergePolicy& policy() const { return policy_; }
  const Limits& limits() const { return limits_; }
  uint64_t current_version() const { return current_; }
  const SharedImage& published() const { return published_; }
  const std::vector<VersionNote>& versions() const { return versions_; }
  // Whether the weights of `version` are stored (they can be downloaded).
  bool weights_stored(uint64_t version) const { return version >= oldest_stored_ && version <= current_; }
  uint64_t oldest_stored() const { return oldest_stored_; }

  // ---- uploads
  struct UploadRequest {
    std::string model;
    uint64_t base_version = 0;
    uint64_t num_samples = 0;
    uint64_t data_bytes = 0;
    uint64_t data_hash = 0;
    std::vector<std::pair<std::string, double>> metrics;
    Buffer header;  // the header's bytes, kept with the session
  };
  // Opens an upload session (UploadBegin). Checks, in order: model name
  // (bad_contribution), base version (unknown_version; stale when the open
  // round does not accept it or its weights are pruned), duplicate (an
  // accepted contribution, or an upload of it being committed), sample count
  // (bad_contribution: 0 or over max_samples), data size (bad_shape), the
  // number of open uploads (busy). An open upload of the same
  // participant and base that is still receiving is replaced: its id is put
  // in *replaced (the caller tells the merger to drop it).
  const UploadSession& begin_upload(const UploadRequest& request, const std::string& participant, uint64_t upload_id,
                                    uint64_t now_ms, std::optional<uint64_t>* replaced);
  // The session `id` of `participant` (unknown_upload otherwise).
  const UploadSession& session(uint64_t id, const std::string& participant) const;
  bool has_session(uint64_t id) const { return sessions_.count(id) > 0; }
  // The session `id`, or nullptr.
  const UploadSession* find_session(uint64_t id) const {
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : &it->second;
  }
  // A part may go to the merger: receiving, offset is the next byte
  // expected (bad_request otherwise; a client resumes from `forwarded`
  // of UploadResume), 1..part_bytes bytes within the data (bad_request),
  // and the open round still accepts its base (stale: the session ends).
  void forward_part(uint64_t id, const std::string& participant, uint64_t offset, uint64_t size, uint64_t now_ms);
  // The merger checked and staged `size` more bytes.
  void part_stored(uint64_t id, uint64_t size);
  // A part went wrong in flight: the client resends from `stored`.
  void part_lost(uint64_t id);
  // Throws stale (and ends the session) when a merge made it unacceptable.
  void check_not_doomed(uint64_t id);
  // Ends a session whatever its state (abort, failure, expiry); returns it,
  // or nothing when it does not exist.
  std::optional<UploadSession> end_session(uint64_t id);
  // UploadCommit: every byte must be stored (incomplete_upload) and the
  // session receiving (bad_request). The session moves to finalizing (the
  // merger checks the whole: hash, norm).
  void start_finalize(uint64_t id, const std::string& participant, uint64_t now_ms);
  // After the merger's checks: assigns the contribution to the open round
  // and returns its note (seq, round, factor) to write. Throws stale (and
  // ends the session) when the open round does not accept it any more.
  ContributionNote assign_commit(uint64_t id, uint64_t now_ms);
  // The acceptance is durable: the contribution is pending in its round, in
  // the filter state; the session ends. Returns the contributions recorded
  // for its base now.
  uint32_t commit_durable(uint64_t id);
  // The write failed: nothing was accepted; the session ends.
  void commit_failed(uint64_t id);
  // Sessions idle for longer than session_idle_ms at `now_ms`.
  std::vector<uint64_t> expired(uint64_t now_ms) const;
  size_t session_count() const { return sessions_.size(); }
  // The uploads not being committed (they end when the aggregation changes).
  std::vector<uint64_t> open_uploads() const;
  // The uploads of `participant` not being committed (they end when its key
  // is revoked).
  std::vector<uint64_t> open_uploads_of(const std::string& participant) const;
  // Every upload session of `participant`, whatever its state (quotas).
  size_t session_count_of(const std::string& participant) const;

  // ---- merges
  // The manager's merge command: `base` must be the current version
  // (unknown_version, base_not_current), no merge of it may be under way
  // (merge_in_progress), and min_contributions must be waiting
  // (not_enough_contributions). Closes the round.
  void request_merge(uint64_t base);
  // The interval timer: closes the front round when min_contributions wait.
  void interval_tick();
  // The next merge to run now, if any (a closed front round, every
  // acceptance durable, no merge running, not failed since its last
  // change). Marks it running.
  std::optional<MergeOrder> start_merge();
  bool merging() const;
  // The running merge stored `outcome`: the version is current, the round
  // is gone; returns the version's merged members' notes.
  void merge_done(MergeOutcome outcome);
  // The running merge failed (nothing stored): its round stays closed and
  // is retried on the next command, acceptance or policy change; under
  // manual merges it opens again instead when no later round has begun.
  void merge_failed();

  // ---- refusals: an upload of `participant` onto `base` was refused. Kept
  // (the first kMaxRefusalNotes; all are counted) for the provenance of the
  // next version.
  static constexpr size_t kMaxRefusalNotes = 64;
  void note_refusal(const std::string& participant, uint64_t base, ErrorCode code, const std::string& message,
                    uint64_t now_ms);

  // ---- policy: replaces it (the caller has stored it).
  void set_policy(MergePolicy policy);

  // ---- the registry (docs/architecture.md, "Model registry commands")
  // Archived: read-only. begin_upload, start_finalize and request_merge
  // refuse with `archived`; start_merge gives nothing.
  bool archived() const { return archived_; }
  // The caller has stored the change. Archiving ends the uploads that are
  // receiving: returns their ids (the caller tells the merger to drop them).
  std::vector<uint64_t> set_archived(bool archived);
  // A rollback to `to_version`: refused when it is archived (archived),
  // `to_version` is not a version or its weights are pruned
  // (unknown_version, naming the oldest retained), it is the current one
  // (bad_request), a merge or a commit is under way (merge_in_progress).
  // Until rollback_done or rollback_failed, uploads cannot begin or commit
  // (busy) and merges wait.
  RollbackOrder start_rollback(uint64_t to_version);
  // The merger stored the rollback's version: it is current; the pending
  // contributions are in one round onto it as the order says.
  void rollback_done(MergeOutcome outcome, const RollbackOrder& order);
  void rollback_failed() { rolling_back_ = false; }
  bool rolling_back() const { return rolling_back_; }

  // ---- status
  ModelSummaryInfo summary() const;
  // The accepted contributions to `base`, when its filter state is in
  // memory (bases >= oldest_stored); nullptr otherwise.
  const std::vector<ContributionNote>* notes_for(uint64_t base) const;
  uint32_t pending_count() const;

 private:
  struct Round {
    uint64_t base = 0;
    std::vector<ContributionNote> members;
    std::set<uint64_t> in_flight;  // upload ids being committed into it
    bool closed = false;
    bool merging = false;
    bool failed = false;
  };

  Round& open_round() { return rounds_.back(); }
  const Round& open_round() const { return rounds_.back(); }
  // f(open round - base) if the open round accepts `base`, else 0.
  double factor_for(uint64_t base) const;
  // f(round - base) if a round onto `round` accepts `base` while versions
  // >= oldest_stored keep their weights, else 0.
  double factor_at(uint64_t round, uint64_t base, uint64_t oldest_stored) const;
  // The oldest stored version once `version` is current.
  uint64_t oldest_kept_at(uint64_t version) const;
  uint32_t needed() const;
  void close_back();
  void clear_failed();
  UploadSession& own(uint64_t id, const std::string& participant);

  ModelDefinition def_;
  MergePolicy policy_;
  Limits limits_;
  uint64_t current_ = 0;
  SharedImage published_;
  std::vector<VersionNote> versions_;
  uint64_t oldest_stored_ = 0;
  std::map<uint64_t, std::vector<ContributionNote>> notes_;  // by base
  std::map<uint64_t, UploadSession> sessions_;
  std::deque<Round> rounds_;
  uint64_t next_seq_ = 0;
  std::vector<RefusedNote> refused_;  // since the last merge began
  uint64_t refused_total_ = 0;
  size_t refused_in_merge_ = 0;  // of them, those the running merge records
  uint64_t refused_total_in_merge_ = 0;
  bool archived_ = false;
  bool rolling_back_ = false;
};

}  // namespace fedhub
