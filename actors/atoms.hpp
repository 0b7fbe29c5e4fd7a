// The atoms that tag messages between fedhub's actors. Requests from other
// processes carry no atom: they are a bare std::vector<char> holding a
// RequestEnvelope (messages/schemas/request.fbs). docs/architecture.md lists
// who sends what.
#pragma once

#include <caf/atom.hpp>

#include "client/atoms.hpp"  // event_atom, lost_atom

namespace fedhub {

// hub -> model: (model_atom, std::vector<char> request, std::string caller) -> response
using model_atom = caf::atom_constant<caf::atom("model")>;
// hub -> model: (summary_atom) -> std::vector<char> ModelSummary
using summary_atom = caf::atom_constant<caf::atom("summary")>;
// merger -> model: (loaded_atom, LoadedModelState) once the state is read;
// (load_fail_atom, std::string reason) when it cannot be
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using load_fail_atom = caf::atom_constant<caf::atom("loadfail")>;
// model -> merger, each answered (unit or a fedhub error):
//   (begin_atom, UploadSession)
//   (part_atom, uint64_t upload, uint64_t offset, std::vector<char> request)
//   (finalize_atom, uint64_t upload) -> bool clipped
//   (committed_atom, uint64_t upload, ContributionNote)
//   (abort_atom, uint64_t upload)
//   (merge_atom, MergeOrder) -> MergeOutcome
//   (policy_atom, std::string policy JSON, std::vector<uint64_t> uploads it ended)
//   (rollback_atom, RollbackOrder) -> MergeOutcome
//   (delete_atom) -> unit: everything of the model deleted (synced); the merger stops
// hub -> model: (delete_atom) -> unit, the same through the model's owner
using begin_atom = caf::atom_constant<caf::atom("begin")>;
using part_atom = caf::atom_constant<caf::atom("part")>;
using finalize_atom = caf::atom_constant<caf::atom("finalize")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using merge_atom = caf::atom_constant<caf::atom("merge")>;
using policy_atom = caf::atom_constant<caf::atom("policy")>;
using rollback_atom = caf::atom_constant<caf::atom("rollback")>;
using delete_atom = caf::atom_constant<caf::atom("delete")>;
// hub -> import worker: (import_atom, ...) see actors/import_actor.hpp
using import_atom = caf::atom_constant<caf::atom("import")>;
// any -> journal: (commit_atom, StoreBatch) -> unit, after the synced write
using commit_atom = caf::atom_constant<caf::atom("commit")>;
// journal -> itself: write what has queued up
using flush_atom = caf::atom_constant<caf::atom("flush")>;
// model -> reader: (chunk_atom, model, version, total, offset, length) -> DownloadChunk response
//                  (notes_atom, model, base) -> std::vector<std::vector<char>> ContributionSummary records
using chunk_atom = caf::atom_constant<caf::atom("chunk")>;
using notes_atom = caf::atom_constant<caf::atom("notes")>;
// hub -> creation worker: (create_atom) -> LoadedModelState
using create_atom = caf::atom_constant<caf::atom("create")>;
// hub -> backup worker: (backup_atom) -> Ack response (actors/backup_worker.hpp)
using backup_atom = caf::atom_constant<caf::atom("backup")>;
// model -> scorer: (score_atom, version, policy JSON); scorer -> model:
// (scored_atom, std::vector<char> VersionScores record) (actors/scorer_actor.hpp)
using score_atom = caf::atom_constant<caf::atom("score")>;
using scored_atom = caf::atom_constant<caf::atom("scored")>;
// hub -> provenance worker: (provenance_atom) -> History or VerifyReport response
using provenance_atom = caf::atom_constant<caf::atom("provenanc")>;
// model -> itself: the interval trigger and the sweep of idle uploads
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
// hub -> model actors: (revoked_atom, key name): end its subscriptions and uploads.
using revoked_atom = caf::atom_constant<caf::atom("revoked")>;

}  // namespace fedhub
