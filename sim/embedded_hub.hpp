// A hub inside a program's own actor system: the research simulations' way
// in (sim/simulation.hpp), and any C++ program's that wants the hub's real
// actors without a process and a port.
//
// The hub is the one fl-hub runs (actors/start_hub.hpp): the same hub, model,
// merger, journal and reader actors, on a real RocksDB store, answering the
// same FlatBuffers requests. Clients made by client() talk to it through
// the same link actor and messages as the networked programs (no shortcut
// around uploads, acceptance or merges); only CAF remoting is left out, and
// publish() adds it back for real processes (fl-participant, fl-manager).
//
//   caf::actor_system system{cfg};            // fedhub::SystemConfig
//   fedhub::sim::EmbeddedHub hub(system);     // a temporary data directory
//   auto manager = hub.client(hub.manager_key());
//   auto key = hub.add_key("org-1", fedhub::fb::Role::participant);
//   auto org1 = hub.client(key);
//   ...
//   hub.stop();                               // or the destructor
//
// Thread safety: one thread uses an EmbeddedHub; each HubClient belongs to
// the thread that uses it.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>

#include "actors/hub_options.hpp"
#include "client/hub_client.hpp"
#include "messages/common_generated.h"

namespace fedhub::sim {

struct EmbeddedHubOptions {
  // The data directory; empty: a fresh one under $TMPDIR (or /tmp), removed
  // when the hub has stopped. A given directory is kept (it is a hub's data
  // directory like fl-hub's: open it again, or serve it with fl-hub).
  std::string data_dir;
  HubOptions hub;
  // Timeout of the clients' requests.
  std::chrono::milliseconds request_timeout{std::chrono::minutes(10)};
};

class EmbeddedHub {
 public:
  // Opens (or creates) the data directory and spawns the hub's actors in
  // `system`. Throws StoreError (persistence/store.hpp) when the directory
  // cannot be opened, e.g. another hub holds it.
  explicit EmbeddedHub(caf::actor_system& system, EmbeddedHubOptions options = {});
  // stop().
  ~EmbeddedHub();
  EmbeddedHub(const EmbeddedHub&) = delete;
  EmbeddedHub& operator=(const EmbeddedHub&) = delete;

  // The hub's entry actor (what fl-hub publishes).
  caf::actor actor() const { return hub_; }
  const std::string& data_dir() const { return dir_; }

  // The manager key: created on the directory's first start; for a given
  // directory opened again, the one in <data_dir>/manager.key (written at
  // the first start, as fl-hub does). Empty when neither exists.
  const std::string& manager_key() const { return manager_key_; }

  // A client of this hub with `key` (HubClient's blocking calls).
  std::unique_ptr<HubClient> client(const std::string& key) const;

  // Creates an API key through the hub (a manager's request) and returns it.
  std::string add_key(const std::string& name, fb::Role role);

  // Publishes the hub on a loopback port (0: any free port) for other
  // processes; returns the port. Throws std::runtime_error when it cannot.
  uint16_t publish(uint16_t port = 0, const std::string& bind = "127.0.0.1");

  // Stops the hub's actors and waits until the store is closed (every
  // acknowledged write is durable already). Idempotent. Clients made by
  // client() get `unavailable` from then on.
  void stop();

 private:
  caf::actor_system& system_;
  EmbeddedHubOptions options_;
  std::string dir_;
  bool temporary_ = false;
  std::string manager_key_;
  caf::actor hub_;
  uint16_t published_ = 0;
  std::unique_ptr<HubClient> manager_;
  std::future<void> closed_;  // ready when the last actor let go of the store
};

}  // namespace fedhub::sim
