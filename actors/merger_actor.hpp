// The merger of one model: owns its MergeEngine (hub/merge.hpp), folds each
// accepted contribution as it arrives and merges when the policy or the
// manager says so. Spawned detached, so a long merge occupies its own thread
// and never blocks downloads or uploads.
//
// Messages:
//   (fold_atom, seq, summary)                 an accepted contribution
//   (merge_atom, base) -> response            a merge on command
//   (policy_atom, patch JSON) -> response     change the merge policy
//   (tick_atom)                               the interval trigger
// Sends (merged_atom, MergeReceipt response) to the model actor for every
// new version, and (policy_atom, policy JSON) after a policy change.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>

#include "hub/merge.hpp"

namespace fedhub {

struct merger_state {
  std::unique_ptr<MergeEngine> engine;
  caf::actor model;
  uint64_t tick_generation = 0;  // a policy change cancels older ticks
  static inline const char* name = "merger";
};

caf::behavior merger_actor(caf::stateful_actor<merger_state>* self, std::shared_ptr<Store> store,
                           std::string model_name, caf::actor model);

}  // namespace fedhub
