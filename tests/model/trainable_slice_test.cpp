// Frozen layers (issue 13, item 5): "trainable": false in the architecture,
// the recipe's "freeze", Keras's field, and the slice that maps a
// contribution's tensors into a version's weights.
#include "model/trainable_slice.hpp"

#include <boost/test/unit_test.hpp>
#include <numeric>
#include <stdexcept>

#include "model/keras_architecture.hpp"
#include "model/model_spec.hpp"

using namespace fedhub;

namespace {

// conv2d (3*3*1*2 + 2 = 20), dense (8*3 + 3 = 27 after a 2x2x2 flatten), dense_1 (3*2 + 2 = 8)
const char* kArch = R"({"input":[4,4,1],"layers":[
  {"type":"conv2d","filters":2,"kernel_size":3},
  {"type":"flatten"},
  {"type":"dense","units":3,"activation":"relu"},
  {"type":"dense","units":2}]})";

std::string refusal(const std::string& arch, const std::string& recipe) {
  try {
    make_model_spec("m", arch, {"a", "b"}, recipe);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_frozen_is_the_whole_layout) {
  const auto a = parse_architecture(kArch);
  const TrainableSlice s(a);
  BOOST_TEST(s.whole());
  BOOST_TEST(s.parameters() == 55u);
  BOOST_TEST((s.layout() == a.parameters()));
  BOOST_REQUIRE(s.ranges().size() == 1u);
  BOOST_TEST(s.ranges()[0].count == 55u);
}

BOOST_AUTO_TEST_CASE(a_frozen_layer_leaves_the_slice_and_is_kept_on_expand) {
  std::string arch = kArch;
  arch.replace(arch.find(R"("units":3,)"), 10, R"("units":3,"trainable":false,)");
  const auto a = parse_architecture(arch);
  BOOST_TEST(!a.layers[2].trainable);
  BOOST_TEST(parse_architecture(a.to_json()).to_json() == a.to_json());  // stored canonically
  BOOST_TEST(a.to_json().find(R"("trainable":false)") != std::string::npos);
  const TrainableSlice s(a);
  BOOST_TEST(!s.whole());
  BOOST_TEST(s.parameters() == 28u);
  BOOST_TEST(s.full_parameters() == 55u);
  BOOST_REQUIRE(s.layout().size() == 4u);
  BOOST_TEST(s.layout()[1].name == "conv2d/bias");
  BOOST_TEST(s.layout()[2].name == "dense_1/kernel");
  BOOST_REQUIRE(s.ranges().size() == 2u);  // conv2d, then dense_1 after the frozen dense
  BOOST_TEST(s.ranges()[0].offset == 0u);
  BOOST_TEST(s.ranges()[0].count == 20u);
  BOOST_TEST(s.ranges()[1].offset == 47u);
  BOOST_TEST(s.ranges()[1].count == 8u);

  std::vector<float> full(55);
  std::iota(full.begin(), full.end(), 0.f);
  const auto t = s.gather(full);
  BOOST_REQUIRE(t.size() == 28u);
  BOOST_TEST(t.data()[19] == 19.f);
  BOOST_TEST(t.data()[20] == 47.f);
  std::vector<float> trained(28, -1.f);
  const auto e = s.expand(full, trained);
  BOOST_TEST(e.data()[0] == -1.f);
  BOOST_TEST(e.data()[20] == 20.f);  // the frozen dense keeps its values
  BOOST_TEST(e.data()[46] == 46.f);
  BOOST_TEST(e.data()[47] == -1.f);
  BOOST_CHECK_THROW(s.gather(trained), std::invalid_argument);
  BOOST_CHECK_THROW((void)s.expand(full, full), std::invalid_argument);

  Weights w = zeros_like(a.parameters());
  w[4].values[0] = 5.f;  // dense_1/kernel
  const auto picked = s.select(w);
  BOOST_REQUIRE(picked.size() == 4u);
  BOOST_TEST(picked[2].name == "dense_1/kernel");
  BOOST_TEST(picked[2].values[0] == 5.f);
}

BOOST_AUTO_TEST_CASE(the_recipe_freezes_layers_by_name) {
  const auto spec = make_model_spec("m", kArch, {"a", "b"}, R"({"freeze":["conv2d","dense"]})");
  BOOST_TEST(!spec.architecture.layers[0].trainable);
  BOOST_TEST(!spec.architecture.layers[2].trainable);
  BOOST_TEST(spec.architecture.layers[3].trainable);
  BOOST_TEST(TrainableSlice(spec.architecture).parameters() == 8u);
  BOOST_TEST(spec.recipe.to_json().find(R"("freeze":["conv2d","dense"])") != std::string::npos);
  BOOST_TEST(parse_recipe(spec.recipe.to_json()).freeze == spec.recipe.freeze);
  BOOST_TEST(parse_recipe("{}").to_json().find("freeze") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_freeze_is_refused_with_the_layer_named) {
  BOOST_TEST(refusal(kArch, R"({"freeze":["dense_7"]})").find("'dense_7', which the architecture does not have") !=
             std::string::npos);
  BOOST_TEST(refusal(kArch, R"({"freeze":["flatten"]})").find("'flatten', which has no parameters") !=
             std::string::npos);
  BOOST_TEST(refusal(kArch, R"({"freeze":["flatten"]})").find("'conv2d', 'dense', 'dense_1'") != std::string::npos);
  BOOST_TEST(refusal(kArch, R"({"freeze":["conv2d","dense","dense_1"]})").find("nothing to train") !=
             std::string::npos);
  BOOST_TEST(refusal(kArch, R"({"freeze":"conv2d"})").find("list of layer names") != std::string::npos);
  BOOST_TEST(refusal(kArch, R"({"freeze":["conv2d","conv2d"]})").find("twice") != std::string::npos);
  std::string arch = kArch;
  arch.replace(arch.find(R"("units":2)"), 9, R"("units":2,"trainable":"no")");
  BOOST_TEST(refusal(arch, "{}").find("layer 3 (dense): \"trainable\" must be true or false") != std::string::npos);
  arch = kArch;
  arch.replace(arch.find(R"({"type":"flatten"})"), 18, R"({"type":"flatten","trainable":false})");
  BOOST_TEST(refusal(arch, "{}").find("unknown field 'trainable'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(keras_trainable_false_freezes_the_layer) {
  const char* keras = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
    {"class_name": "Dense", "config": {"name": "base", "trainable": false, "units": 3, "activation": "relu"}},
    {"class_name": "Dropout", "config": {"name": "drop", "trainable": false, "rate": 0.1}},
    {"class_name": "Dense", "config": {"name": "head", "trainable": true, "units": 2}}]}})";
  const auto a = parse_architecture(keras);
  BOOST_TEST(!a.layers[0].trainable);
  BOOST_TEST(a.layers[2].trainable);
  const TrainableSlice s(a);
  BOOST_REQUIRE(s.layout().size() == 2u);
  BOOST_TEST(s.layout()[0].name == "head/kernel");
}
