// The contribution collector of one model: verifies, filters (stale,
// unknown version, duplicate, norm bound), persists with a synced batch and
// only then acknowledges. One per model, so the duplicate check and the
// write are serialised.
//
// Messages:
//   (upload_atom, request, caller) -> response   from the model actor
//   (published_atom, version)                    a new current version
//   (policy_atom, policy JSON)                   a new merge policy
// After each acceptance it sends (accepted_atom, Event) to its model actor
// and (fold_atom, seq, summary) to the merger.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>

#include "hub/contribution_intake.hpp"

namespace fedhub {

struct collector_state {
  std::unique_ptr<ContributionIntake> intake;
  std::string model_name;
  caf::actor model;
  caf::actor merger;
  static inline const char* name = "collector";
};

caf::behavior collector_actor(caf::stateful_actor<collector_state>* self, std::shared_ptr<Store> store,
                              std::string model_name, std::vector<TensorSpec> layout, uint64_t current_version,
                              std::string policy_json, caf::actor model, caf::actor merger);

}  // namespace fedhub
