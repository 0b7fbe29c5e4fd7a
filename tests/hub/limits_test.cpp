// Limits a hub keeps: the size of a new model and its recipe (checked
// before anything model-sized is allocated; from the hub's config) and the
// metrics of a contribution.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>

#include "client/requests.hpp"
#include "config/hub_config.hpp"
#include "hub/model_core.hpp"
#include "hub/model_creation.hpp"
#include "hub_support.hpp"
#include "messages/requests.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// A CreateModel request of one dense layer of `units` over 784 inputs and a
// second of 2 units; the hub initialises the weights.
Buffer create_request(const std::string& name, const std::string& units, const std::string& recipe = "{}") {
  fb::ModelSpecT spec;
  spec.name = name;
  spec.architecture_json =
      R"({"input":[784],"layers":[{"type":"dense","units":)" + units + R"(},{"type":"dense","units":2}]})";
  spec.labels = {"a", "b"};
  spec.recipe_json = recipe;
  spec.min_contributions = 1;
  return requests::create_model("k", spec, {}, 1, "");
}

LoadedModelState create(Store& store, const Buffer& request, const ModelLimits& limits = {}) {
  return create_model(store, *requests::verify(request)->request_as_CreateModel(), limits);
}

// The core of the tiny model (8 parameters), for uploads' metrics.
ModelCore tiny_core() {
  ModelDefinition d;
  d.name = "m";
  d.layout = {{"dense/kernel", {3, 2}}, {"dense/bias", {2}}};
  d.parameters = 8;
  d.trainable = TrainableSlice::all_of(d.layout);
  d.labels = 2;
  d.min_contributions = 1;
  return ModelCore(d, MergePolicy::from_json(""), {}, nullptr, ModelCore::Limits{});
}

ModelCore::UploadRequest upload_with(std::vector<std::pair<std::string, double>> metrics) {
  ModelCore::UploadRequest rq;
  rq.model = "m";
  rq.num_samples = 10;
  rq.data_bytes = 32;
  rq.metrics = std::move(metrics);
  return rq;
}

std::string config_file(const TempDir& dir, const std::string& json) {
  const std::string path = dir / "hub.json";
  std::ofstream(path) << json;
  return path;
}

std::string config_error(const TempDir& dir, const std::string& json) {
  try {
    load_hub_config(config_file(dir, json));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  BOOST_ERROR("config " << json << " was taken");
  return {};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(model_limits, StoreFixture)

BOOST_AUTO_TEST_CASE(a_billion_units_are_refused_before_anything_is_allocated) {
  // 787e9 parameters (3 TB): AlignedFloats would throw std::bad_alloc.
  check_error([&] { create(*store, create_request("big", "1000000000")); }, ErrorCode::invalid_model,
              "model 'big': the architecture has 787000000002 parameters; the hub's config allows at most 500000000 "
              "(max_parameters)");
  BOOST_TEST(!store->model("big").has_value());
  BOOST_TEST(!store->latest_version("big").has_value());
}

BOOST_AUTO_TEST_CASE(an_overflowing_architecture_is_refused) {
  check_error([&] { create(*store, create_request("huge", "100000000000000000")); }, ErrorCode::invalid_model,
              "more than 2^64 parameters");
}

BOOST_AUTO_TEST_CASE(the_configured_limits_apply) {
  ModelLimits l;
  l.max_parameters = 1000;  // 784*2+2 + 2*2+2 = 1576 parameters
  check_error([&] { create(*store, create_request("m1", "2"), l); }, ErrorCode::invalid_model,
              "1576 parameters; the hub's config allows at most 1000 (max_parameters)");
  l.max_parameters = 1576;
  l.max_model_bytes = 6000;
  check_error([&] { create(*store, create_request("m1", "2"), l); }, ErrorCode::invalid_model,
              "6304 bytes (1576 parameters); the hub's config allows at most 6000 bytes (max_model_bytes)");
  l.max_model_bytes = 6304;
  const auto created = create(*store, create_request("m1", "2"), l);
  BOOST_TEST(created.definition.parameters == 1576u);
  BOOST_TEST(store->model("m1").has_value());
}

BOOST_AUTO_TEST_CASE(recipe_steps_and_batch_size_are_bounded) {
  check_error([&] { create(*store, create_request("r", "2", R"({"steps":2000000000000})")); }, ErrorCode::invalid_model,
              "2000000000000 steps per round; the hub's config allows at most 1000000");
  check_error([&] { create(*store, create_request("r", "2", R"({"batch_size":1000000})")); }, ErrorCode::invalid_model,
              "batch size is 1000000; the hub's config allows at most 65536");
  ModelLimits l;
  l.max_steps = 10;
  check_error([&] { create(*store, create_request("r", "2", R"({"steps":11})"), l); }, ErrorCode::invalid_model,
              "at most 10 (max_steps)");
  BOOST_TEST(!store->model("r").has_value());
  BOOST_CHECK_NO_THROW(create(*store, create_request("r", "2", R"({"steps":10,"batch_size":64})"), l));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hub_config_limits)

BOOST_AUTO_TEST_CASE(defaults_and_the_example_file) {
  const HubConfig defaults;
  BOOST_TEST(defaults.model_limits.max_parameters == 500000000u);
  BOOST_TEST(defaults.model_limits.max_steps == 1000000u);
  const auto example = load_hub_config(std::string(FEDHUB_SOURCE_DIR) + "/config/hub.example.json");
  BOOST_TEST(example.model_limits.max_parameters == defaults.model_limits.max_parameters);
  BOOST_TEST(example.model_limits.max_model_bytes == defaults.model_limits.max_model_bytes);
  BOOST_TEST(example.model_limits.max_steps == defaults.model_limits.max_steps);
  BOOST_TEST(example.model_limits.max_batch_size == defaults.model_limits.max_batch_size);
}

BOOST_AUTO_TEST_CASE(keys_are_read_and_range_checked) {
  TempDir dir;
  const auto c = load_hub_config(
      config_file(dir, R"({"max_parameters":1000,"max_model_bytes":4000,"max_steps":50,"max_batch_size":8})"));
  BOOST_TEST(c.model_limits.max_parameters == 1000u);
  BOOST_TEST(c.model_limits.max_model_bytes == 4000u);
  BOOST_TEST(c.model_limits.max_steps == 50u);
  BOOST_TEST(c.model_limits.max_batch_size == 8u);
  auto e = config_error(dir, R"({"max_parameters":0})");
  BOOST_TEST(e.find("'max_parameters' must be 1 to 68719476736") != std::string::npos, e);
  e = config_error(dir, R"({"max_parameters":1e12})");
  BOOST_TEST(e.find("'max_parameters'") != std::string::npos, e);
  e = config_error(dir, R"({"max_steps":-1})");
  BOOST_TEST(e.find("'max_steps' must be 1 to 1000000000") != std::string::npos, e);
  e = config_error(dir, R"({"max_batch_size":2000000})");
  BOOST_TEST(e.find("'max_batch_size' must be 1 to 1048576") != std::string::npos, e);
  e = config_error(dir, R"({"max_params":1})");
  BOOST_TEST(e.find("max_parameters, max_model_bytes, max_steps, max_batch_size") != std::string::npos, e);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(contribution_metrics)

BOOST_AUTO_TEST_CASE(metrics_within_the_bounds_are_taken) {
  auto core = tiny_core();
  std::vector<std::pair<std::string, double>> m;
  for (int i = 0; i < 16; ++i) m.emplace_back(std::string(62, 'a') + std::to_string(10 + i), i * 0.5);
  BOOST_CHECK_NO_THROW(core.begin_upload(upload_with(m), "alice", 1, 0, nullptr));
  BOOST_CHECK_NO_THROW(core.begin_upload(upload_with({}), "bob", 2, 0, nullptr));
}

BOOST_AUTO_TEST_CASE(too_many_metrics) {
  auto core = tiny_core();
  std::vector<std::pair<std::string, double>> m;
  for (int i = 0; i < 17; ++i) m.emplace_back(std::string("m").append(std::to_string(i)), 1.0);
  check_error([&] { core.begin_upload(upload_with(m), "alice", 1, 0, nullptr); }, ErrorCode::bad_contribution,
              "reports 17 metrics; at most 16 are taken");
}

BOOST_AUTO_TEST_CASE(long_empty_unprintable_and_repeated_names) {
  auto core = tiny_core();
  auto refused = [&](std::vector<std::pair<std::string, double>> m, const std::string& needle) {
    check_error([&] { core.begin_upload(upload_with(std::move(m)), "alice", 1, 0, nullptr); },
                ErrorCode::bad_contribution, needle);
  };
  refused({{"loss", 0.1}, {std::string(65, 'x'), 1.0}},
          "metric 1 has a name of 65 bytes ('xxxxxxxxxxxxxxxx...'); at most 64");
  refused({{"", 1.0}}, "metric 0 has an empty name");
  refused({{"loss", 1.0}, {"acc\nuracy", 1.0}}, "metric 1's name holds byte 10: names are printable ASCII");
  refused({{"loss", 1.0}, {"lo\xc3\xa9", 1.0}}, "metric 1's name holds byte 195");
  refused({{"loss", 1.0}, {"loss", 2.0}}, "metric 'loss' is reported twice");
  BOOST_TEST(core.session_count() == 0u);
}

BOOST_AUTO_TEST_CASE(values_must_be_finite) {
  auto core = tiny_core();
  check_error(
      [&] {
        core.begin_upload(upload_with({{"loss", std::numeric_limits<double>::quiet_NaN()}}), "alice", 1, 0, nullptr);
      },
      ErrorCode::bad_contribution, "metric 'loss' is nan: values must be finite");
  check_error(
      [&] {
        core.begin_upload(upload_with({{"accuracy", std::numeric_limits<double>::infinity()}}), "alice", 1, 0, nullptr);
      },
      ErrorCode::bad_contribution, "metric 'accuracy' is inf");
}

BOOST_AUTO_TEST_SUITE_END()
