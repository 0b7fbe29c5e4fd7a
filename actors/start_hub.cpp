#include "actors/start_hub.hpp"

#include "actors/hub_actor.hpp"
#include "hub/key_registry.hpp"

namespace fedhub {

StartedHub start_hub(caf::actor_system& system, std::shared_ptr<Store> store, HubOptions options) {
  StartedHub started;
  auto keys = std::make_unique<KeyRegistry>(*store);
  started.created_manager_key = keys->ensure_manager_key(*store);
  std::vector<std::string> models;
  for (const auto& [name, problem] : stored_model_names(*store)) {
    if (name.empty())
      started.unreadable_models.push_back(problem);
    else
      models.push_back(name);
  }
  started.hub = system.spawn(hub_actor, std::move(store), options, std::move(keys), std::move(models));
  return started;
}

}  // namespace fedhub
