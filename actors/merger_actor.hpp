// The merger of one model: runs merges (hub/merge.hpp) off the request path.
// Spawned detached, so a long merge occupies its own thread and never blocks
// downloads or uploads.
//
// Messages:
//   (merge_atom, base) -> response   a MergeReceipt or an Error response
#pragma once

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>

#include "persistence/store.hpp"

namespace fedhub {

struct merger_state {
  static inline const char* name = "merger";
};

caf::behavior merger_actor(caf::stateful_actor<merger_state>* self, std::shared_ptr<Store> store,
                           std::string model_name);

}  // namespace fedhub
