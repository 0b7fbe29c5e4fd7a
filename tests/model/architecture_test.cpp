#include "model/architecture.hpp"

#include <boost/test/unit_test.hpp>

#include "model/model_spec.hpp"

using namespace fedhub;

BOOST_AUTO_TEST_SUITE(architecture)

BOOST_AUTO_TEST_CASE(mlp_shapes_and_names) {
  auto a = parse_architecture(
      R"({"input":[28,28,1],"layers":[{"type":"flatten"},{"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":10}]})");
  BOOST_TEST(a.layers.size() == 3u);
  BOOST_TEST(a.layers[1].name == "dense");
  BOOST_TEST(a.layers[2].name == "dense_1");
  auto p = a.parameters();
  BOOST_REQUIRE(p.size() == 4u);
  BOOST_TEST(p[0].name == "dense/kernel");
  BOOST_TEST((p[0].shape == std::vector<int64_t>{784, 64}));
  BOOST_TEST((p[3].shape == std::vector<int64_t>{10}));
  BOOST_TEST(a.output_size() == 10);
}

BOOST_AUTO_TEST_CASE(simple_cnn_shapes) {
  auto a = parse_architecture(R"({"input":[32,32,3],"layers":[
    {"type":"conv2d","filters":32,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
    {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"maxpool2d","pool_size":2},
    {"type":"conv2d","filters":64,"kernel_size":3,"activation":"relu"},{"type":"flatten"},
    {"type":"dense","units":64,"activation":"relu"},{"type":"dense","units":20}]})");
  BOOST_TEST((a.layers[0].output_shape == std::vector<int64_t>{30, 30, 32}));
  BOOST_TEST((a.layers[1].output_shape == std::vector<int64_t>{15, 15, 32}));
  BOOST_TEST((a.layers[3].output_shape == std::vector<int64_t>{6, 6, 64}));
  BOOST_TEST((a.layers[4].output_shape == std::vector<int64_t>{4, 4, 64}));
  BOOST_TEST((a.layers[5].output_shape == std::vector<int64_t>{1024}));
  auto p = a.parameters();
  BOOST_TEST((p[0].shape == std::vector<int64_t>{3, 3, 3, 32}));
  // Keras reports 122,570 parameters for the 10-class version; 20 classes add 650.
  Weights w = zeros_like(p);
  BOOST_TEST(parameter_count(w) == 123220);
  // Round trip through the canonical JSON.
  auto b = parse_architecture(a.to_json());
  BOOST_TEST((b.parameters() == p));
}

BOOST_AUTO_TEST_CASE(errors_name_the_layer) {
  auto expect_error = [](const std::string& json, const std::string& fragment) {
    try {
      parse_architecture(json);
      BOOST_ERROR("no error for " << json);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
  };
  expect_error("{", "not valid JSON");
  expect_error(R"({"input":[28,28,1],"layers":[{"type":"dense","units":10}]})", "layer 0 (dense)");
  expect_error(R"({"input":[4],"layers":[{"type":"dense","units":0}]})", "units");
  expect_error(R"({"input":[4],"layers":[{"type":"bogus"}]})", "unknown layer type");
  expect_error(R"({"input":[4],"layers":[{"type":"dense","units":3,"activaton":"relu"}]})",
               "unknown field 'activaton'");
  expect_error(R"({"input":[2,2,1],"layers":[{"type":"conv2d","filters":1,"kernel_size":3},{"type":"flatten"}]})",
               "larger than its input");
  expect_error(
      R"({"input":[4],"layers":[{"type":"dense","units":3,"activation":"softmax"},{"type":"dense","units":2}]})",
      "softmax");
}

// Found by fuzz_architecture (tests/fuzz/regressions/architecture/number-overflow-5E444):
// a number past double's range escaped as nlohmann's out_of_range.
BOOST_AUTO_TEST_CASE(a_number_past_doubles_range_is_invalid_json) {
  BOOST_CHECK_THROW(parse_architecture(R"({"input":[5E444],"layers":[]})"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(check_weights_reports_problems) {
  auto a = parse_architecture(R"({"input":[3],"layers":[{"type":"dense","units":2}]})");
  auto layout = a.parameters();
  Weights w = zeros_like(layout);
  BOOST_TEST(check_weights(w, layout).empty());
  w[0].values[1] = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(check_weights(w, layout).find("non-finite") != std::string::npos);
  w = zeros_like(layout);
  w[1].shape = {3};
  BOOST_TEST(check_weights(w, layout).find("dense/bias") != std::string::npos);
  w.pop_back();
  BOOST_TEST(check_weights(w, layout).find("expected 2 tensors") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(model_spec_checks_label_count) {
  std::string arch = R"({"input":[3],"layers":[{"type":"dense","units":2}]})";
  BOOST_CHECK_NO_THROW(make_model_spec("m", arch, {"a", "b"}, "{}"));
  BOOST_CHECK_THROW(make_model_spec("m", arch, {"a", "b", "c"}, "{}"), std::invalid_argument);
  BOOST_CHECK_THROW(make_model_spec("bad name", arch, {"a", "b"}, "{}"), std::invalid_argument);
  BOOST_TEST(!check_model_name("../etc").empty());
  BOOST_TEST(check_model_name("fmnist-mlp_v1.2").empty());
}

BOOST_AUTO_TEST_SUITE_END()
