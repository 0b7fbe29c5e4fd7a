// The scorer of one model: a detached actor owning the model's
// VersionScorer (hub/version_scores.hpp), so that evaluating versions and
// scoring contributions (which re-runs merges and reads whole models) never
// occupies a scheduler thread nor delays an upload, a download or a merge.
//
// Messages:
//   (score_atom, uint64_t version, std::string policy JSON)   from the model
//       actor after each new version; the scorer sends back
//       (scored_atom, std::vector<char> VersionScores record).
// The model actor keeps one request in flight: versions published while
// one is scored wait, and only the newest of them is scored next.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>
#include <optional>

#include "hub/version_scores.hpp"

namespace fedhub {

struct scorer_state {
  std::unique_ptr<VersionScorer> scorer;
  static inline const char* name = "scorer";
};

caf::behavior scorer_actor(caf::stateful_actor<scorer_state>* self, std::shared_ptr<Store> store,
                           ModelDefinition definition, caf::actor model);

}  // namespace fedhub
