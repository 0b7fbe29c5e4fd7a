// The hub's entry actor: the one actor a hub publishes. It verifies every
// request buffer, authenticates the API key, checks the role, and routes by
// model name to the model actors it supervises; it handles model creation,
// API keys and listings itself.
//
// Messages:
//   std::vector<char> RequestEnvelope -> std::vector<char> ResponseEnvelope
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <map>
#include <memory>

#include "actors/hub_options.hpp"
#include "hub/key_registry.hpp"

namespace fedhub {

struct hub_state {
  std::shared_ptr<Store> store;
  HubOptions options;
  std::unique_ptr<KeyRegistry> keys;
  std::map<std::string, caf::actor> models;
  static inline const char* name = "hub";
};

// Loads keys and models from the store and spawns one model actor per model.
caf::behavior hub_actor(caf::stateful_actor<hub_state>* self, std::shared_ptr<Store> store, HubOptions options);

}  // namespace fedhub
