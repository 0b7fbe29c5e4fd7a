// The hub's entry actor: the one actor a hub publishes. It verifies every
// request buffer, authenticates the API key, checks the role, and routes by
// model name to the model actors; it handles API keys and model creation
// itself (through the journal and a detached creation worker: it never
// writes, reads the store or computes on its own thread).
//
// It monitors (does not link) the actors it starts: a model actor that
// fails is reported in fl-hub's log and as `unavailable` (with the reason)
// by ListModels and every request for it, while every other model is
// served. The journal and the readers are the hub's shared detached
// workers.
//
// The model registry: DeleteModel goes to the model actor (the owner of the
// model's state, which has everything of it erased in one synced batch);
// the name is unknown from the request on and free once the erasure is
// durable. Imports run in a detached import actor each; the name is
// reserved meanwhile and the model actor starts (and loads it from the
// store) after the commit.
//
// Messages:
//   std::vector<char> RequestEnvelope -> std::vector<char> ResponseEnvelope
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "actors/hub_options.hpp"
#include "hub/key_registry.hpp"
#include "hub/upload_quota.hpp"
#include "security/auth_backoff.hpp"

namespace fedhub {

struct hub_state {
  struct Model {
    caf::actor actor;     // null when it failed
    std::string problem;  // why it is unavailable
  };
  std::shared_ptr<Store> store;
  HubOptions options;
  std::unique_ptr<KeyRegistry> keys;
  std::set<std::string> key_changes;  // names whose change is being written
  std::map<std::string, Model> models;
  std::set<std::string> creating;  // names being created (or imported)
  bool backing_up = false;         // a backup worker runs (one at a time)
  bool verifying = false;          // a verify worker runs (one at a time)
  std::set<std::string> deleting;  // names being deleted
  // Imports in progress (actors/import_actor.hpp), by model name.
  struct Import {
    caf::actor worker;
    uint64_t id = 0;
    std::string owner;  // the key that began it
    uint64_t last_activity_ms = 0;
    uint64_t received = 0;
  };
  std::map<std::string, Import> imports;
  std::mt19937_64 import_ids{std::random_device{}()};
  caf::actor journal;
  std::vector<caf::actor> readers;
  // Contribution bytes charged per key (options.upload_bytes_per_minute),
  // and the back-off for remote nodes that fail to authenticate; both set
  // from the options when the actor starts.
  UploadQuota quota{0};
  AuthBackoff backoff{AuthBackoff::Settings{}};
  static inline const char* name = "hub";
};

// `models`: the names of the stored models (read at start-up, before the
// actors run); one model actor is spawned for each, which loads its state in
// its own merger.
caf::behavior hub_actor(caf::stateful_actor<hub_state>* self, std::shared_ptr<Store> store, HubOptions options,
                        std::unique_ptr<KeyRegistry> keys, std::vector<std::string> models);

// The names of the models in a store: (name, "") for each readable record,
// ("", reason) for a damaged one (reported, not served).
std::vector<std::pair<std::string, std::string>> stored_model_names(const Store& store);

}  // namespace fedhub
