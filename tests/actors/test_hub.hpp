// A hub's actors in this test process, published on a loopback port, with
// clients that talk to it through CAF remoting like the programs do.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <memory>
#include <string>
#include <vector>

#include "actors/hub_client.hpp"
#include "actors/system_config.hpp"
#include "model/tensor.hpp"

namespace fedhub::testing {

class TestHub {
 public:
  TestHub();   // a fresh data directory
  ~TestHub();  // stops and removes it

  void start();  // opens the store, spawns and publishes the hub actor
  void stop();   // a clean shutdown; start() again resumes from the store

  std::unique_ptr<HubClient> client(const std::string& key);
  HubClient& manager();
  std::string add_participant(const std::string& name);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<SystemConfig> config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::actor hub_;
  uint16_t port_ = 0;
  std::string manager_key_;
  std::unique_ptr<HubClient> manager_;
};

// A two-output linear model over 3 inputs: dense/kernel [3,2], dense/bias [2].
extern const char* kTinyArchitecture;

// Weights of the tiny model with every value `v`.
Weights tiny_weights(float v);

// Creates the tiny model with initial weights `init` and the policy JSON.
void create_tiny(HubClient& manager, const std::string& name, float init, const std::string& policy_json,
                 uint32_t min_contributions = 1);

// A contribution to the tiny model with every weight `v`.
Buffer tiny_contribution(const std::string& model, uint64_t base, float v, uint64_t samples);

// The current weights of a model as one flat vector, and its version.
std::vector<float> current_weights(HubClient& client, const std::string& model, uint64_t* version = nullptr);

// Waits (at most `limit`, a failure guard) for the VersionPublished event of
// `version`; returns its buffer.
Buffer wait_for_version(HubClient& subscriber, uint64_t version,
                        std::chrono::milliseconds limit = std::chrono::seconds(60));

}  // namespace fedhub::testing
