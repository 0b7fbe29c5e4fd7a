#include "test_hub.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "actors/start_hub.hpp"
#include "client/requests.hpp"
#include "hub/key_registry.hpp"
#include "messages/contribution.hpp"
#include "messages/events.hpp"
#include "messages/model_package.hpp"
#include "model/flat.hpp"

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

void TestHub::start(HubOptions options) {
  config_ = std::make_unique<SystemConfig>(2);
  system_ = std::make_unique<caf::actor_system>(*config_);
  auto started = start_hub(*system_, Store::open(dir_), options);
  if (started.created_manager_key) manager_key_ = *started.created_manager_key;
  hub_ = started.hub;
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
  const auto w = flatten(tiny_weights(init));
  manager.call_as<fb::CreateReceipt>(requests::create_model(manager.key(), spec, w, 0, policy_json), holder);
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

fb::ModelStatusT status(HubClient& client, const std::string& model, int64_t version) {
  Buffer holder;
  fb::ModelStatusT s;
  client.call_as<fb::ModelStatus>(requests::status(client.key(), model, version), holder)->UnPackTo(&s);
  return s;
}

ErrorCode refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e.code();
  }
  BOOST_ERROR("the request was not refused");
  return ErrorCode::internal;
}

fb::MergeReceiptT merge(HubClient& manager, const std::string& model, uint64_t base) {
  Buffer holder;
  fb::MergeReceiptT r;
  manager.call_as<fb::MergeReceipt>(requests::merge(manager.key(), model, base), holder)->UnPackTo(&r);
  return r;
}

void expect_all_values(const std::vector<float>& x, float v) {
  BOOST_REQUIRE(!x.empty());
  for (float got : x) BOOST_TEST(std::abs(got - v) < 1e-5, "value " << got << " != " << v);
}

namespace {

std::string architecture_of(uint64_t parameters) {
  if (parameters < 4 || parameters % 2 != 0) throw std::invalid_argument("parameters must be even and >= 4");
  return R"({"input":[)" + std::to_string(parameters / 2 - 1) + R"(],"layers":[{"type":"dense","units":2}]})";
}

}  // namespace

void create_model_of(HubClient& manager, const std::string& name, uint64_t parameters, const std::string& policy) {
  fb::ModelSpecT spec;
  spec.name = name;
  spec.architecture_json = architecture_of(parameters);
  spec.labels = {"a", "b"};
  spec.recipe_json = "{}";
  Buffer holder;
  manager.call_as<fb::CreateReceipt>(requests::create_model(manager.key(), spec, {}, 1, policy), holder);
}

Buffer random_contribution(const std::string& model, uint64_t base, uint64_t parameters, uint64_t seed,
                           uint64_t samples) {
  const uint64_t inputs = parameters / 2 - 1;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> u(-1, 1);
  Weights w = {{"dense/kernel", {static_cast<int64_t>(inputs), 2}, std::vector<float>(inputs * 2)},
               {"dense/bias", {2}, std::vector<float>(2)}};
  for (auto& t : w)
    for (auto& v : t.values) v = u(rng);
  ContributionMeta meta;
  meta.model = model;
  meta.base_version = base;
  meta.num_samples = samples;
  return build_contribution(meta, w);
}

void send_partially(HubClient& client, const Buffer& contribution, int parts, UploadTicket* ticket) {
  const auto view = read_contribution(contribution, false);
  Buffer holder;
  const auto* s = client.call_as<fb::UploadSession>(requests::upload_begin(client.key(), view.header_bytes), holder);
  ticket->model = view.header->model()->str();
  ticket->upload_id = s->upload_id();
  const uint64_t part = s->part_bytes();
  uint64_t at = 0;
  for (int i = 0; i < parts && at < view.data.size(); ++i) {
    const uint64_t n = std::min<uint64_t>(part, view.data.size() - at);
    Buffer h;
    client.call_as<fb::UploadProgress>(
        requests::upload_part(client.key(), ticket->model, ticket->upload_id, at, view.data.subspan(at, n)), h);
    at += n;
  }
}

void wait_until_merging(HubClient& manager, const std::string& model) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    Buffer holder;
    const auto* st = manager.call_as<fb::ModelStatus>(requests::status(manager.key(), model, -1), holder);
    if (st->summary()->merging()) return;
  }
  throw std::runtime_error("model '" + model + "' never reported a merge under way");
}

uint64_t stored_chunk_bytes(const std::string& dir, const std::string& model, uint64_t upload_id) {
  auto store = Store::open(dir);
  return store->for_each_chunk(model, upload_id, [](uint64_t, std::span<const char>) {});
}

}  // namespace fedhub::testing
