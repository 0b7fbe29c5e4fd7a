// A hub's actors in this test process, published on a loopback port, with
// clients that talk to it through CAF remoting like the programs do.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/hub_options.hpp"
#include "client/hub_client.hpp"
#include "client/system_config.hpp"
#include "model/tensor.hpp"

namespace fedhub::fb {
// Boost.Test prints refused codes by name.
inline std::ostream& operator<<(std::ostream& out, ErrorCode code) { return out << EnumNameErrorCode(code); }
}  // namespace fedhub::fb

namespace fedhub::testing {

class TestHub {
 public:
  TestHub();   // a fresh data directory
  ~TestHub();  // stops and removes it

  // Opens the store, spawns and publishes the hub actor.
  void start(HubOptions options = {});
  void stop();  // a clean shutdown; start() again resumes from the store

  std::unique_ptr<HubClient> client(const std::string& key);
  caf::actor_system& system() { return *system_; }
  uint16_t port() const { return port_; }
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

// A model's status for a version (-1: the current one).
fb::ModelStatusT status(HubClient& client, const std::string& model, int64_t version = -1);

// The code of the RequestError f throws (a test error when it throws none).
ErrorCode refusal(const std::function<void()>& f);

// A manager's merge command and its receipt.
fb::MergeReceiptT merge(HubClient& manager, const std::string& model, uint64_t base);

// Every value of x equals v (float comparison within 1e-5).
void expect_all_values(const std::vector<float>& x, float v);

// A model of `parameters` parameters (even, >= 4): one dense layer with two
// units over parameters / 2 - 1 inputs. The hub initialises it.
void create_model_of(HubClient& manager, const std::string& name, uint64_t parameters, const std::string& policy_json);

// A framed contribution of random values in [-1, 1] for that model.
Buffer random_contribution(const std::string& model, uint64_t base, uint64_t parameters, uint64_t seed,
                           uint64_t samples = 10);

// Begins an upload of `contribution` and sends only its first `parts` parts
// (each answered), recording the session in *ticket: an upload cut short.
void send_partially(HubClient& client, const Buffer& contribution, int parts, UploadTicket* ticket);

// Waits (at most 60 s, a failure guard) until the model's status says a merge is under way.
void wait_until_merging(HubClient& manager, const std::string& model);

// Bytes of an upload's chunks in a stopped hub's store.
uint64_t stored_chunk_bytes(const std::string& dir, const std::string& model, uint64_t upload_id);

}  // namespace fedhub::testing
