// One actor per model: holds the current version and serves downloads,
// hands uploads to its collector and merges to its merger, and pushes events
// to subscribers.
//
//        download ──► model ──► (package in memory, older versions from the store)
//        upload   ──► model ──► collector ──► store (synced) ──► receipt
//        merge    ──► model ──► merger (detached) ──► store ──► model reloads,
//                                tells the collector and the subscribers
//
// Messages:
//   (model_atom, request, caller) -> response   from the hub actor
//   (summary_atom) -> ModelSummary buffer
//   (accepted_atom, Event)                      from the collector
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "actors/hub_options.hpp"
#include "hub/model_state.hpp"

namespace fedhub {

struct model_state {
  std::shared_ptr<Store> store;
  HubOptions options;
  ModelState model;
  caf::actor collector;
  caf::actor merger;
  bool merging = false;
  std::vector<caf::actor> subscribers;
  // The last older version downloaded: chunked downloads of it stay cheap.
  std::optional<std::pair<uint64_t, Buffer>> older_package;
  static inline const char* name = "model";
};

caf::behavior model_actor(caf::stateful_actor<model_state>* self, std::shared_ptr<Store> store, ModelState model,
                          HubOptions options);

}  // namespace fedhub
