// The merger of one model: a detached actor owning the model's MergeEngine
// (hub/merge_engine.hpp), so that checking parts, folding, merging and
// storing versions never occupy a scheduler thread. It does what its model
// actor asks, with the snapshots each message carries, and answers every
// request (a fedhub error when the engine refuses).
//
// On start it reads the model's state from the store (unless it is given
// the state of a model just created) and sends (loaded_atom,
// LoadedModelState) to the model actor, or (load_fail_atom, reason) and
// stops.
//
// Messages: see actors/atoms.hpp (begin, part, finalize, committed, abort,
// merge, policy).
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>
#include <optional>

#include "hub/merge_engine.hpp"

namespace fedhub {

struct merger_state {
  std::unique_ptr<MergeEngine> engine;
  static inline const char* name = "merger";
};

caf::behavior merger_actor(caf::stateful_actor<merger_state>* self, std::shared_ptr<Store> store,
                           std::string model_name, caf::actor model, std::optional<LoadedModelState> created);

}  // namespace fedhub
