#include "test_hub.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <filesystem>
#include <stdexcept>

#include "actors/hub_actor.hpp"
#include "model/flat.hpp"
#include "hub/key_registry.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "messages/requests.hpp"

namespace fedhub::testing {

const char* kTinyArchitecture = R"({"input":[3],"layers":[{"type":"dense","units":2}]})";

TestHub::TestHub() {
  char tmpl[] = "/tmp/fedhub-actors.XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
}

TestHub::~TestHub() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestHub::start() {
  std::shared_ptr<Store> store = Store::open(dir_);
  {
    KeyRegistry keys(*store);
    if (auto key = keys.ensure_manager_key()) manager_key_ = *key;
  }
  config_ = std::make_unique<SystemConfig>(2);
  system_ = std::make_unique<caf::actor_system>(*config_);
  hub_ = system_->spawn(hub_actor, store, HubOptions{});
  auto port = caf::io::publish(hub_, 0, "127.0.0.1", true);
  if (!port) throw std::runtime_error("publish failed: " + system_->render(port.error()));
  port_ = *port;
}

void TestHub::stop() {
  if (!system_) return;
  manager_.reset();
  caf::io::unpublish(hub_, port_);
  caf::anon_send_exit(hub_, caf::exit_reason::user_shutdown);
  hub_ = nullptr;
  system_.reset();  // joins the actors; the store closes with the last one
  config_.reset();
}

std::unique_ptr<HubClient> TestHub::client(const std::string& key) {
  return std::make_unique<HubClient>(*system_, "127.0.0.1", port_, key, std::chrono::seconds(60));
}

HubClient& TestHub::manager() {
  if (!manager_) manager_ = client(manager_key_);
  return *manager_;
}

std::string TestHub::add_participant(const std::string& name) {
  Buffer holder;
  return manager()
      .call_as<fb::KeyCreated>(requests::add_key(manager().key(), name, fb::Role::participant), holder)
      ->key()
      ->str();
}

Weights tiny_weights(float v) {
  return {{"dense/kernel", {3, 2}, std::vector<float>(6, v)}, {"dense/bias", {2}, std::vector<float>(2, v)}};
}

void create_tiny(HubClient& manager, const std::string& name, float init, const std::string& policy_json,
                 uint32_t min_contributions) {
  fb::ModelSpecT spec;
  spec.name = name;
  spec.architecture_json = kTinyArchitecture;
  spec.labels = {"a", "b"};
  spec.recipe_json = "{}";
  spec.min_contributions = min_contributions;
  Buffer holder;
  manager.call_as<fb::CreateReceipt>(requests::create_model(manager.key(), spec, tiny_weights(init), policy_json),
                                     holder);
}

Buffer tiny_contribution(const std::string& model, uint64_t base, float v, uint64_t samples) {
  ContributionMeta meta;
  meta.model = model;
  meta.base_version = base;
  meta.num_samples = samples;
  return build_contribution(meta, tiny_weights(v));
}

std::vector<float> current_weights(HubClient& client, const std::string& model, uint64_t* version) {
  auto m = read_model_package(client.download_package(model, -1));
  if (version) *version = m.version;
  return flatten(m.weights);
}

Buffer wait_for_version(HubClient& subscriber, uint64_t version, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto event = subscriber.next_event(left);
    if (!event) break;
    const auto* v = events::verify(*event)->body_as_VersionPublished();
    if (v && v->version() == version) return *event;
  }
  throw std::runtime_error("no event for version " + std::to_string(version) + " arrived");
}

}  // namespace fedhub::testing
