// Creating models (validation of a CreateModel request) and loading their
// state back; merge policies; summaries; the hub's config file.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>

#include "config/hub_config.hpp"
#include "hub/merge_policy.hpp"
#include "hub_support.hpp"
#include "messages/records.hpp"
#include "messages/tensors.hpp"

using namespace fedhub;
using namespace fedhub::test;

namespace {

// A CreateModel request built by hand, with tensors of any dtype.
Buffer create_request_with_dtype(const fb::ModelSpecT& spec, fb::DType dtype, size_t bytes_per_value) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> offsets;
  for (const auto& t : tiny_from_flat(tiny_initial_flat())) {
    std::vector<char> data(t.values.size() * bytes_per_value, '\0');
    auto d = create_aligned_bytes(fbb, data);
    auto name = fbb.CreateString(t.name);
    auto shape = fbb.CreateVector(t.shape);
    offsets.push_back(fb::CreateTensor(fbb, name, shape, dtype, d));
  }
  auto tensors = fbb.CreateVector(offsets);
  auto s = fb::CreateModelSpec(fbb, &spec);
  auto body = fb::CreateCreateModel(fbb, s, tensors);
  auto key = fbb.CreateString("k");
  fbb.Finish(fb::CreateRequestEnvelope(fbb, key, fb::Request::CreateModel, body.Union()),
             fb::RequestEnvelopeIdentifier());
  return to_buffer(fbb);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(create_model_validation, StoreFixture)

BOOST_AUTO_TEST_CASE(creates_version_zero) {
  const uint64_t before = now_ms();
  const ModelState m = create_from_request(*store, tiny_spec("tiny", 2), tiny_from_flat(tiny_initial_flat()));
  BOOST_TEST(m.spec.name == "tiny");
  BOOST_TEST(m.current_version == 0u);
  BOOST_TEST(m.created_at_ms >= before);
  BOOST_TEST((m.layout == tiny_layout()));
  BOOST_TEST(m.spec_fields.min_contributions == 2u);
  // The package participants download: version 0 with the initial weights.
  const LoadedModel pkg = read_model_package(m.package);
  BOOST_TEST(pkg.version == 0u);
  BOOST_TEST(flatten(pkg.weights) == tiny_initial_flat(), boost::test_tools::per_element());
  // Stored: the record, version 0 and its info, in one batch.
  const auto rec = store->model("tiny");
  BOOST_TEST_REQUIRE(rec.has_value());
  const auto* r = records::verify_model_record(*rec);
  BOOST_TEST(r->current_version() == 0u);
  BOOST_TEST(r->spec()->name()->str() == "tiny");
  BOOST_TEST(r->spec()->min_contributions() == 2u);
  const auto v0 = store->version("tiny", 0);
  BOOST_TEST_REQUIRE(v0.has_value());
  const auto* v = verify_model_version(*v0);
  BOOST_TEST(v->version() == 0u);
  BOOST_TEST(v->aggregator()->str() == "initial");
  BOOST_TEST(flatten(read_weights(v->tensors())) == tiny_initial_flat(), boost::test_tools::per_element());
  const auto infos = store->version_infos("tiny");
  BOOST_TEST_REQUIRE(infos.size() == 1u);
  BOOST_TEST(records::verify_version_info(infos[0])->version() == 0u);
  BOOST_TEST(records::verify_version_info(infos[0])->aggregator()->str() == "initial");
}

BOOST_AUTO_TEST_CASE(model_exists) {
  create_from_request(*store, tiny_spec("tiny"), tiny_from_flat(tiny_initial_flat()));
  Weights other = tiny_from_flat(std::vector<float>(9, 7.0f));
  check_error([&] { create_from_request(*store, tiny_spec("tiny"), other); }, ErrorCode::model_exists, "'tiny'");
  // Checked before the tensors: bad weights for an existing name are still model_exists.
  other[0].values[0] = NAN;
  check_error([&] { create_from_request(*store, tiny_spec("tiny"), other); }, ErrorCode::model_exists);
  // The stored model is untouched.
  const auto stored = store->version("tiny", 0);
  BOOST_TEST_REQUIRE(stored.has_value());
  const auto* v = verify_model_version(*stored);
  BOOST_TEST(flatten(read_weights(v->tensors())) == tiny_initial_flat(), boost::test_tools::per_element());
  BOOST_TEST(store->models().size() == 1u);
}

BOOST_AUTO_TEST_CASE(invalid_model) {
  const Weights w = tiny_from_flat(tiny_initial_flat());
  auto spec = tiny_spec("m1");
  spec.labels = {"cat", "dog"};  // 3 outputs, 2 labels
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model, "labels");
  spec = tiny_spec("m2");
  spec.labels.clear();
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model);
  spec = tiny_spec("m3");
  spec.architecture_json = R"({"input":[2],"layers":[{"type":"dense","units":3})";  // truncated JSON
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model);
  spec = tiny_spec("m4");
  spec.architecture_json = R"({"input":[2],"layers":[{"type":"teleport"}]})";
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model, "teleport");
  spec = tiny_spec("m5");
  spec.recipe_json = R"({"optimizer":{"name":"magic"}})";
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model);
  spec = tiny_spec("bad name!");
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model, "name");
  spec = tiny_spec("m6", 0);
  check_error([&] { create_from_request(*store, spec, w); }, ErrorCode::invalid_model, "min_contributions");
  check_error([&] { create_from_request(*store, tiny_spec("m7"), w, "{not json"); }, ErrorCode::invalid_model);
  check_error([&] { create_from_request(*store, tiny_spec("m8"), w, R"({"aggregator":{"name":"nope"}})"); },
              ErrorCode::invalid_model, "nope");
  check_error([&] { create_from_request(*store, tiny_spec("m9"), w, R"({"colour":"blue"})"); },
              ErrorCode::invalid_model, "colour");
  BOOST_TEST(store->models().empty());
  BOOST_TEST(!store->version("m8", 0));
}

BOOST_AUTO_TEST_CASE(bad_shape) {
  Weights w = tiny_from_flat(tiny_initial_flat());
  w[0].shape = {3, 2};
  check_error([&] { create_from_request(*store, tiny_spec(), w); }, ErrorCode::bad_shape, "dense/kernel");
  w = tiny_from_flat(tiny_initial_flat());
  w.pop_back();
  check_error([&] { create_from_request(*store, tiny_spec(), w); }, ErrorCode::bad_shape, "expected 2 tensors");
  w = tiny_from_flat(tiny_initial_flat());
  w[1].name = "dense/b";
  check_error([&] { create_from_request(*store, tiny_spec(), w); }, ErrorCode::bad_shape, "'dense/b'");
  BOOST_TEST(store->models().empty());
}

BOOST_AUTO_TEST_CASE(bad_dtype) {
  const Buffer req = create_request_with_dtype(tiny_spec(), fb::DType::float16, 2);
  const auto* env = requests::verify(req);
  check_error([&] { create_model(*store, *env->request_as_CreateModel()); }, ErrorCode::bad_dtype, "float16");
  BOOST_TEST(store->models().empty());
}

BOOST_AUTO_TEST_CASE(non_finite) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    auto flat = tiny_initial_flat();
    flat[7] = bad;
    check_error([&] { create_from_request(*store, tiny_spec(), tiny_from_flat(flat)); }, ErrorCode::non_finite,
                "'dense/bias'");
  }
  BOOST_TEST(store->models().empty());
}

BOOST_AUTO_TEST_CASE(load_and_summary) {
  create_from_request(*store, tiny_spec("tiny", 3), tiny_from_flat(tiny_initial_flat()),
                      R"({"merge":"manual","aggregator":{"name":"mean"}})");
  reopen();
  const ModelState m = ModelState::load(*store, "tiny");
  BOOST_TEST(m.current_version == 0u);
  BOOST_TEST(m.spec.labels.size() == 3u);
  BOOST_TEST(m.policy.aggregator.name == "mean");
  BOOST_TEST(flatten(read_model_package(m.package).weights) == tiny_initial_flat(), boost::test_tools::per_element());
  const ModelState no_pkg = ModelState::load(*store, "tiny", false);
  BOOST_TEST(no_pkg.package.empty());
  const auto s = m.summary(4, true);
  BOOST_TEST(s.name == "tiny");
  BOOST_TEST(s.current_version == 0u);
  BOOST_TEST(s.pending_contributions == 4u);
  BOOST_TEST(s.min_contributions == 3u);
  BOOST_TEST(s.parameters == 9u);
  BOOST_TEST(s.labels == 3u);
  BOOST_TEST(s.merging);
  BOOST_TEST(MergePolicy::from_json(s.policy_json).aggregator.name == "mean");
  // Summaries travel between actors as bare buffers.
  const fb::ModelSummaryT back = unpack_summary(pack_summary(s));
  BOOST_TEST(back.name == "tiny");
  BOOST_TEST(back.pending_contributions == 4u);
  BOOST_TEST(back.parameters == 9u);
  BOOST_TEST(back.policy_json == s.policy_json);
  check_error([&] { unpack_summary(std::span<const char>("garbage!garbage!", 16)); }, ErrorCode::internal);
  check_error([&] { ModelState::load(*store, "nope"); }, ErrorCode::unknown_model, "'nope'");
}

BOOST_AUTO_TEST_CASE(a_damaged_model_record_is_internal) {
  store->create_model("bad", std::span<const char>("not a record....", 16), std::span<const char>("x", 1),
                      std::span<const char>("y", 1));
  check_error([&] { ModelState::load(*store, "bad"); }, ErrorCode::internal);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(merge_policy)

BOOST_AUTO_TEST_CASE(defaults_and_round_trip) {
  const MergePolicy d = MergePolicy::from_json("");
  BOOST_TEST(d.aggregator.name == "fedavg");
  const MergePolicy back = MergePolicy::from_json(d.to_json());
  BOOST_TEST(back.to_json() == d.to_json());
  const MergePolicy mean = MergePolicy::from_json(R"({"merge":"manual","aggregator":{"name":"mean"}})");
  BOOST_TEST(mean.aggregator.name == "mean");
  BOOST_TEST(MergePolicy::from_json(mean.to_json()).aggregator.name == "mean");
}

BOOST_AUTO_TEST_CASE(refusals) {
  BOOST_CHECK_THROW(MergePolicy::from_json("{"), std::invalid_argument);
  BOOST_CHECK_THROW(MergePolicy::from_json("[1,2]"), std::invalid_argument);
  BOOST_CHECK_THROW(MergePolicy::from_json(R"({"merge":"sometimes"})"), std::invalid_argument);
  BOOST_CHECK_THROW(MergePolicy::from_json(R"({"merge":3})"), std::invalid_argument);
  BOOST_CHECK_THROW(MergePolicy::from_json(R"({"unknown":1})"), std::invalid_argument);
  BOOST_CHECK_THROW(MergePolicy::from_json(R"({"aggregator":{"name":"nope"}})"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hub_config)

BOOST_AUTO_TEST_CASE(example_file) {
  const HubConfig c = load_hub_config(std::string(FEDHUB_SOURCE_DIR) + "/config/hub.example.json");
  BOOST_TEST(c.bind == "127.0.0.1");
  BOOST_TEST(c.port == 7461);
  BOOST_TEST(c.data_dir == "fedhub-data");
  BOOST_TEST(c.threads == 2);
  BOOST_TEST(c.download_chunk_bytes == 4194304u);
  BOOST_TEST(c.request_timeout_ms == 60000u);
}

BOOST_AUTO_TEST_CASE(overrides_and_errors) {
  TempDir dir;
  auto load = [&](const std::string& text) {
    const std::string path = dir / "hub.json";
    std::ofstream(path) << text;
    return load_hub_config(path);
  };
  const HubConfig c = load(R"({"port":0,"bind":"0.0.0.0","threads":8})");
  BOOST_TEST(c.port == 0);
  BOOST_TEST(c.bind == "0.0.0.0");
  BOOST_TEST(c.threads == 8);
  BOOST_TEST(c.data_dir == "fedhub-data");  // a default
  BOOST_TEST(load("{}").port == 7461);
  auto refused = [&](const std::string& text, const std::string& needle) {
    try {
      load(text);
      BOOST_ERROR("config " << text << " must be refused");
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
      BOOST_TEST(std::string(e.what()).find(dir / "hub.json") != std::string::npos, e.what());
    }
  };
  refused(R"({"port":65536})", "'port'");
  refused(R"({"port":-1})", "'port'");
  refused(R"({"port":"7461"})", "'port'");
  refused(R"({"threads":0})", "'threads'");
  refused(R"({"download_chunk_bytes":100})", "'download_chunk_bytes'");
  refused(R"({"request_timeout_ms":5})", "'request_timeout_ms'");
  refused(R"({"data_dir":""})", "'data_dir'");
  refused(R"({"prot":7461})", "unknown setting 'prot'");
  refused(R"([1])", "JSON object");
  refused(R"({"port":)", "not valid JSON");
  BOOST_CHECK_THROW(load_hub_config(dir / "missing.json"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
