// An import of a model (ImportBegin, ImportPart, ImportCommit): a detached
// actor owning one ModelImport (hub/model_import.hpp), so that gathering,
// checking and storing the packages never occupies a scheduler thread. The
// hub actor starts one per import and routes the import's requests to it.
//
// Messages (each answered; a fedhub error when refused):
//   (begin_atom) -> unit                  checks the ImportBegin it was given
//   (part_atom, std::vector<char> request) -> unit   one ImportPart (verified)
//   (committed_atom) -> std::vector<char> ModelSummary (wire::pack_summary):
//                                         the model is stored; the actor stops
//   (abort_atom) -> unit                  deletes what it stored; the actor stops
// A refused begin or part also deletes what it stored and stops the actor.
#pragma once

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>

#include "hub/model_import.hpp"

namespace fedhub {

struct import_state {
  std::unique_ptr<ModelImport> import;
  static inline const char* name = "import";
};

// `begin`: the verified RequestEnvelope holding the ImportBegin.
caf::behavior import_actor(caf::stateful_actor<import_state>* self, std::shared_ptr<Store> store, Buffer begin,
                           uint64_t max_part_bytes, ModelLimits limits);

}  // namespace fedhub
