// Keras's model.to_json() of Sequential models (Keras 2 and Keras 3 layouts,
// as Keras writes them) read as fedhub architectures (issue 13, item 3).
#include "model/keras_architecture.hpp"

#include <boost/test/unit_test.hpp>

#include "model/architecture.hpp"

using namespace fedhub;

namespace {

// Keras 2.11: tf.keras.Sequential([Input((28, 28, 1)), Conv2D(32, 3, activation="relu"),
// MaxPooling2D(), Flatten(), Dropout(0.5), Dense(64), Activation("relu"), Dense(10),
// Activation("softmax")]).to_json()
const char* kKeras2 = R"({"class_name": "Sequential", "config": {"name": "sequential", "layers": [
 {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 28, 28, 1], "dtype": "float32",
  "sparse": false, "ragged": false, "name": "input_1"}},
 {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true, "dtype": "float32", "filters": 32,
  "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
  "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true,
  "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
  "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null,
  "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}},
 {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": true, "dtype": "float32",
  "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
 {"class_name": "Flatten", "config": {"name": "flatten", "trainable": true, "dtype": "float32",
  "data_format": "channels_last"}},
 {"class_name": "Dropout", "config": {"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.5,
  "noise_shape": null, "seed": null}},
 {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 64,
  "activation": "linear", "use_bias": true}},
 {"class_name": "Activation", "config": {"name": "activation", "trainable": true, "dtype": "float32",
  "activation": "relu"}},
 {"class_name": "Dense", "config": {"name": "dense_1", "trainable": true, "dtype": "float32", "units": 10,
  "activation": "linear", "use_bias": false}},
 {"class_name": "Activation", "config": {"name": "activation_1", "trainable": true, "dtype": "float32",
  "activation": "softmax"}}]}, "keras_version": "2.11.0", "backend": "tensorflow"})";

// Keras 3: the same model without the InputLayer's batch_input_shape (batch_shape instead).
const char* kKeras3 = R"({"module": "keras", "class_name": "Sequential", "config": {"name": "sequential",
 "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
 "registered_name": null}, "layers": [
 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 32, 32, 3],
  "dtype": "float32", "sparse": false, "name": "input_layer"}, "registered_name": null},
 {"module": "keras.layers", "class_name": "Conv2D", "config": {"name": "conv2d", "trainable": true,
  "filters": 8, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "data_format": "channels_last",
  "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": true}, "registered_name": null,
  "build_config": {"input_shape": [null, 32, 32, 3]}},
 {"module": "keras.layers", "class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": true,
  "pool_size": [2, 2], "padding": "valid", "strides": null, "data_format": "channels_last"},
  "registered_name": null},
 {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten", "trainable": true,
  "data_format": "channels_last"}, "registered_name": null},
 {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "trainable": true, "units": 20,
  "activation": "softmax", "use_bias": true}, "registered_name": null}], "build_input_shape": [null, 32, 32, 3]},
 "registered_name": null, "build_config": {"input_shape": [null, 32, 32, 3]}, "compile_config": null})";

std::string refusal(const std::string& json) {
  try {
    parse_architecture(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string replaced(std::string s, const std::string& a, const std::string& b) {
  const auto at = s.find(a);
  BOOST_REQUIRE(at != std::string::npos);
  return s.replace(at, a.size(), b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keras_architecture)

BOOST_AUTO_TEST_CASE(a_keras_2_sequential_model_is_read_as_it_is) {
  BOOST_TEST(is_keras_model_json(kKeras2));
  const auto a = parse_architecture(kKeras2);
  BOOST_TEST((a.input == std::vector<int64_t>{28, 28, 1}));
  BOOST_REQUIRE(a.layers.size() == 7u);  // the softmax Activation is folded into dense_1
  BOOST_TEST(a.layers[0].name == "conv2d");
  BOOST_TEST(a.layers[1].name == "max_pooling2d");
  BOOST_TEST((a.layers[1].output_shape == std::vector<int64_t>{13, 13, 32}));
  BOOST_TEST(a.layers[3].rate == 0.5);
  BOOST_TEST(a.layers[5].name == "activation");
  BOOST_TEST(a.layers[6].name == "dense_1");
  BOOST_TEST(std::string(to_string(a.layers[6].activation)) == "softmax");
  BOOST_TEST(!a.layers[6].use_bias);
  const auto p = a.parameters();  // Keras's get_weights() order and names
  BOOST_REQUIRE(p.size() == 5u);
  BOOST_TEST(p[0].name == "conv2d/kernel");
  BOOST_TEST((p[0].shape == std::vector<int64_t>{3, 3, 1, 32}));
  BOOST_TEST(p[4].name == "dense_1/kernel");
  BOOST_TEST((p[4].shape == std::vector<int64_t>{64, 10}));
  // Stored canonically in fedhub's own format, which reads back the same.
  BOOST_TEST(parse_architecture(a.to_json()).to_json() == a.to_json());
}

BOOST_AUTO_TEST_CASE(a_keras_3_sequential_model_is_read_as_it_is) {
  const auto a = parse_architecture(kKeras3);
  BOOST_TEST((a.input == std::vector<int64_t>{32, 32, 3}));
  BOOST_REQUIRE(a.layers.size() == 4u);
  BOOST_TEST((a.layers[0].output_shape == std::vector<int64_t>{16, 16, 8}));  // same padding, stride 2
  BOOST_TEST((a.layers[1].output_shape == std::vector<int64_t>{8, 8, 8}));    // strides null: the pool size
  BOOST_TEST(a.output_size() == 20);
}

BOOST_AUTO_TEST_CASE(what_fedhub_does_not_train_is_refused_by_name) {
  BOOST_TEST(has(refusal(replaced(kKeras2, R"("activation": "relu", "use_bias": true,)",
                                  R"("activation": "tanh", "use_bias": true,)")),
                 "layer 'conv2d' (Conv2D): activation 'tanh'"));
  BOOST_TEST(has(refusal(replaced(kKeras2, R"("dilation_rate": [1, 1])", R"("dilation_rate": [2, 2])")),
                 "dilation_rate must be 1"));
  BOOST_TEST(has(refusal(replaced(kKeras2, R"("class_name": "Dropout")", R"("class_name": "BatchNormalization")")),
                 "layer 'dropout' (BatchNormalization): is not a layer fedhub trains"));
  BOOST_TEST(has(refusal(replaced(kKeras2, R"("padding": "valid", "data_format": "channels_last",)",
                                  R"("padding": "valid", "data_format": "channels_first",)")),
                 "channels_first"));
  BOOST_TEST(has(refusal(R"({"class_name": "Functional", "config": {"layers": []}})"), "only Sequential"));
  BOOST_TEST(has(refusal(R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense",
      "config": {"name": "d", "units": 3}}]}})"),
                 "no input shape"));
  BOOST_TEST(has(refusal(R"({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense",
      "config": {"name": "d", "units": "x", "batch_input_shape": [null, 4]}}]}})"),
                 "architecture"));
}

BOOST_AUTO_TEST_SUITE_END()
