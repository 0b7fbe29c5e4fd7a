// One actor per model: it holds the model's ModelCore (hub/model_core.hpp),
// the one owner of the model's state, and nothing else holds copies. It
// makes every decision at once and hands all work that blocks or computes
// to others, with the snapshots that work needs:
//
//   merger (detached, one per model)  parts checked and staged, merges,
//                                      versions stored; the initial load
//   scorer (detached, one per model)  each new version evaluated and its
//                                      contributions scored (docs/crowd.md)
//   journal (detached, the hub's)      synced acceptances and policies
//   readers (detached, the hub's)      older versions, old status
//
// Its life (CAF's state-machine style):
//
//   loading ──(loaded)──► running ──(merger lost)──► unavailable
//      └──────(load failed)───────────────────────────────┘
//
// While loading, requests wait in the mailbox (skipped); an unavailable
// model answers model_unavailable with the reason.
//
// Messages:
//   (model_atom, request, caller) -> response     from the hub actor
//   (summary_atom) -> ModelSummary buffer (with its availability)
//   (loaded_atom, LoadedModelState), (load_fail_atom, reason)   from the merger
//   (delete_atom) -> unit      from the hub actor: once the journal writes of
//                              the model in flight are done, the merger deletes
//                              everything of it (one synced batch); then the
//                              actor stops. Meanwhile every request is
//                              answered unknown_model.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "actors/hub_options.hpp"
#include "hub/merge_engine.hpp"
#include "hub/model_core.hpp"

namespace fedhub {

struct model_state {
  std::string model_name;
  HubOptions options;
  std::optional<ModelCore> core;
  caf::actor merger;
  std::shared_ptr<Store> store;
  caf::actor scorer;
  bool scoring = false;                // a version is being scored
  std::optional<uint64_t> score_next;  // the newest version waiting to be scored
  Buffer latest_scores;                // the newest scores record (status)
  caf::actor journal;
  std::vector<caf::actor> readers;
  size_t next_reader = 0;
  struct Subscriber {
    caf::actor actor;
    std::string key;  // the name of the key that subscribed (revoking it ends the subscription)
  };
  std::vector<Subscriber> subscribers;
  // Manual merge commands waiting for the version they asked for.
  std::vector<std::pair<uint64_t, caf::response_promise>> merge_waiters;
  uint64_t tick_generation = 0;  // a policy change cancels older interval ticks
  std::string problem;           // why the model is unavailable
  uint32_t journal_writes = 0;   // synced writes of this model in flight
  bool record_change = false;    // a policy or archive change is being written
  bool deleting = false;
  std::optional<caf::response_promise> delete_promise;
  std::mt19937_64 upload_ids{std::random_device{}()};
  static inline const char* name = "model";
};

caf::behavior model_actor(caf::stateful_actor<model_state>* self, std::shared_ptr<Store> store, std::string name,
                          HubOptions options, caf::actor journal, std::vector<caf::actor> readers,
                          std::optional<LoadedModelState> created);

}  // namespace fedhub
