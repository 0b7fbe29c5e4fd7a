// Replay of a stored version (fl-manager verify): re-runs the merge that
// produced it from what the store kept, and compares the result with the
// version's stored weights bit for bit.
//
// The inputs: the version's provenance (messages/schemas/provenance.fbs:
// the members in summation order, the aggregator's configuration, the DP
// noise seed), the stored weights of its base and of each member's base,
// each member's stored chunks (their XXH3-64 hash must be the one checked
// at upload, or the member is reported as tampered) and the server state
// the merge started from (its SHA-256 must be the recorded one). The merge
// is repeated with the same arithmetic (federation::Aggregator, add() in
// the recorded order, the recorded seed), and the result is compared with
// the stored weights of the version (never with a stored recomputation).
//
// A rollback is checked against the weights of the version it restored.
// A merge whose large uploads were folded part by part as they arrived
// (summation "arrival") summed each weight in another order than a replay
// can: it is reported `within_rounding` when every weight agrees within
// 1e-5 relative (the rounding of a float32 sum of the members).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/model_core.hpp"
#include "messages/provenance_generated.h"
#include "persistence/store.hpp"

namespace fedhub {

struct ReplayReport {
  enum class Outcome {
    identical,        // the replay gives the stored weights bit for bit
    within_rounding,  // summation "arrival": equal within rounding
    differs,          // see `reason`, `tampered`, `differing`
    not_replayable,   // an input is not kept any more (`reason` says which)
  };
  uint64_t version = 0;
  Outcome outcome = Outcome::not_replayable;
  std::string reason;
  std::string aggregator;
  std::string summation;
  uint32_t members = 0;
  // SHA-256 (hex) of the stored weights, the one recorded at merge time,
  // and the replay's.
  std::string stored_sha256;
  std::string recorded_sha256;
  std::string replayed_sha256;
  // Weights whose bits differ between the replay and the stored version,
  // the first of them ("tensor 'dense/kernel' index 5") and the largest
  // absolute difference.
  uint64_t differing = 0;
  std::string first_differing;
  double max_abs_difference = 0;
  // Members whose stored data is not what was accepted: "participant
  // (upload N): why".
  std::vector<std::string> tampered;
};

const char* to_string(ReplayReport::Outcome outcome);

// An input of a merge that is not stored any more (pruned by the policy's
// retain_versions or replay_versions): what() names it.
class InputMissing : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The stored inputs of a model's merges, read on demand (weights of
// versions are cached). Not thread-safe.
class MergeInputs {
 public:
  MergeInputs(const Store& store, const ModelDefinition& definition);
  // The stored weights of `version` (`role` names it in errors). Throws
  // InputMissing when pruned, std::runtime_error when damaged.
  std::span<const float> weights(uint64_t version, const std::string& role);
  // Its trainable values (the weights unless layers are frozen).
  std::span<const float> trainable(uint64_t version, const std::string& role);
  // A member's delta against its base from its stored chunks, clipped as it
  // was merged. When the chunks are not the data accepted at upload (hash,
  // size, values), `tampered` gets a sentence naming the member. Throws
  // InputMissing when its chunks are gone.
  AlignedFloats delta_of(const fb::ProvenanceMemberT& member, std::vector<std::string>* tampered);

 private:
  const Store& store_;
  const ModelDefinition& def_;
  std::map<uint64_t, SharedImage> images_;
  std::map<uint64_t, AlignedFloats> trainable_;
};

// The weights the merge recorded in `provenance` gives from the stored
// inputs, with the same arithmetic (its aggregator from the recorded
// configuration and start state, the members added in the recorded order,
// the recorded DP noise seed); without member `without` (an index into
// provenance.members) when >= 0 (leave-one-out). A rollback gives the
// weights it restored. Throws InputMissing, std::runtime_error (a stored
// state that is not the recorded one), std::invalid_argument (an
// aggregator that cannot merge what is left, e.g. Krum with too few).
AlignedFloats rerun_merge(MergeInputs& inputs, const Store& store, const ModelDefinition& definition,
                          const fb::ProvenanceT& provenance, std::vector<std::string>* tampered, int64_t without = -1);

// Replays version `version` of `definition` (its name is the model's).
// Throws RequestError(unknown_version) when the model has no such version,
// (internal) for a damaged record.
ReplayReport replay_version(const Store& store, const ModelDefinition& definition, uint64_t version);

}  // namespace fedhub
