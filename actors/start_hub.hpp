// Spawning a hub's actors on an open store: the one composition that fl-hub,
// the embedded hubs of simulations (sim/embedded_hub.hpp) and the tests share.
//
// The key registry is loaded (and, on a data directory's first start, a
// manager key created and returned once: write it where the operator finds
// it), the stored models are listed, and the hub actor is spawned; it
// spawns one model actor per readable model, which loads its state in its
// own merger. The caller gives up its reference to the store: the actors
// own it, and it closes when the last of them has exited after the hub
// actor got an exit message (which it passes on to every actor it started).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/hub_options.hpp"
#include "persistence/store.hpp"

namespace fedhub {

struct StartedHub {
  caf::actor hub;
  // The manager key created by this start (a new data directory), else none.
  std::optional<std::string> created_manager_key;
  // One sentence per stored model record that cannot be read (not served).
  std::vector<std::string> unreadable_models;
};

StartedHub start_hub(caf::actor_system& system, std::shared_ptr<Store> store, HubOptions options);

}  // namespace fedhub
