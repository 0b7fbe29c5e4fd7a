#include "model/keras_architecture.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fedhub {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument("architecture: keras " + where + ": " + what);
}

// [null, h, w, c] -> [h, w, c]
json input_of(const json& shape, const std::string& where) {
  if (!shape.is_array() || shape.size() < 2 || shape.size() > 4)
    fail(where, "an input shape must be [null, ...] of 1 to 3 sizes");
  json out = json::array();
  for (size_t i = 1; i < shape.size(); ++i) {
    if (!shape[i].is_number_integer() || shape[i].get<int64_t>() <= 0)
      fail(where, "the input shape " + shape.dump() + " has an unknown or bad size");
    out.push_back(shape[i]);
  }
  return out;
}

bool is_one(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>() == 1;
  if (v.is_array()) {
    for (const auto& x : v)
      if (!x.is_number_integer() || x.get<int64_t>() != 1) return false;
    return true;
  }
  return false;
}

std::string activation_of(const json& c, const std::string& where) {
  if (!c.contains("activation")) return "linear";
  if (!c["activation"].is_string()) fail(where, "its activation is not a name");
  const auto a = c["activation"].get<std::string>();
  if (a != "linear" && a != "relu" && a != "softmax")
    fail(where, "activation '" + a + "' is not one fedhub trains (linear, relu, softmax)");
  return a;
}

void channels_last(const json& c, const std::string& where) {
  if (c.contains("data_format") && !c["data_format"].is_null() && c["data_format"] != "channels_last")
    fail(where, "data_format " + c["data_format"].dump() + ": fedhub reads channels_last");
}

}  // namespace

bool is_keras_model_json(const std::string& text) {
  try {
    const auto j = json::parse(text);
    return j.is_object() && j.contains("class_name");
  } catch (const json::exception&) {
    return false;
  }
}

static std::string convert(const std::string& text);

std::string keras_to_architecture_json(const std::string& text) {
  try {
    return convert(text);
  } catch (const json::exception& e) {  // a field of the wrong type or missing (at())
    throw std::invalid_argument(std::string("architecture: keras model: ") + e.what());
  }
}

static std::string convert(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("architecture: not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || doc.value("class_name", "") != "Sequential")
    fail("model", "only Sequential models are read (class_name " + doc.value("class_name", json("?")).dump() + ")");
  const auto& config = doc["config"];
  if (!config.is_object() || !config.contains("layers") || !config["layers"].is_array())
    fail("model", "its config has no list of layers");
  json input;
  for (const json* bc : {static_cast<const json*>(&doc), &config})  // Keras 3: build_config beside or in the config
    if (bc->contains("build_config") && (*bc)["build_config"].is_object() &&
        (*bc)["build_config"].contains("input_shape") && !(*bc)["build_config"]["input_shape"].is_null())
      input = input_of((*bc)["build_config"]["input_shape"], "model");
  if (config.contains("build_input_shape") && !config["build_input_shape"].is_null())
    input = input_of(config["build_input_shape"], "model");
  json layers = json::array();
  for (const auto& layer : config["layers"]) {
    if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string() ||
        !layer.contains("config") || !layer["config"].is_object())
      fail("model", "a layer without class_name and config");
    const auto kind = layer["class_name"].get<std::string>();
    const auto& c = layer["config"];
    const std::string name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : "";
    const std::string where = "layer '" + name + "' (" + kind + ")";
    for (const char* key : {"batch_input_shape", "batch_shape"})
      if (c.contains(key) && !c[key].is_null()) input = input_of(c[key], where);
    json l;
    if (kind == "InputLayer") {
      continue;
    } else if (kind == "Conv2D") {
      channels_last(c, where);
      if (c.contains("dilation_rate") && !is_one(c["dilation_rate"])) fail(where, "dilation_rate must be 1");
      if (c.contains("groups") && !is_one(c["groups"])) fail(where, "groups must be 1");
      l = {{"type", "conv2d"},
           {"filters", c.at("filters")},
           {"kernel_size", c.at("kernel_size")},
           {"activation", activation_of(c, where)},
           {"use_bias", c.value("use_bias", true)}};
      if (c.contains("strides")) l["strides"] = c["strides"];
      if (c.contains("padding")) l["padding"] = c["padding"];
    } else if (kind == "MaxPooling2D") {
      channels_last(c, where);
      l = {{"type", "maxpool2d"}, {"pool_size", c.at("pool_size")}};
      if (c.contains("strides") && !c["strides"].is_null()) l["strides"] = c["strides"];
      if (c.contains("padding") && c["padding"] != "valid") fail(where, "only padding \"valid\" is read");
    } else if (kind == "Flatten") {
      channels_last(c, where);
      l = {{"type", "flatten"}};
    } else if (kind == "Dense") {
      l = {{"type", "dense"},
           {"units", c.at("units")},
           {"activation", activation_of(c, where)},
           {"use_bias", c.value("use_bias", true)}};
    } else if (kind == "Dropout") {
      l = {{"type", "dropout"}, {"rate", c.at("rate")}};
    } else if (kind == "Activation") {
      const auto a = activation_of(c, where);
      if (a == "linear") continue;
      if (a == "relu") {
        l = {{"type", "relu"}};
      } else {  // softmax: folded into the layer before it
        if (layers.empty() || !layers.back().contains("activation") || layers.back()["activation"] != "linear")
          fail(where, "softmax follows a layer with its own activation");
        layers.back()["activation"] = "softmax";
        continue;
      }
    } else {
      fail(where,
           "is not a layer fedhub trains (InputLayer, Conv2D, MaxPooling2D, Flatten, Dense, Dropout, "
           "Activation)");
    }
    if (!name.empty()) l["name"] = name;
    // Frozen: kept for the layers with weights (on the others it means nothing).
    if ((kind == "Conv2D" || kind == "Dense") && c.contains("trainable") && c["trainable"] == false)
      l["trainable"] = false;
    layers.push_back(std::move(l));
  }
  if (input.is_null()) fail("model", "no input shape (an InputLayer or the first layer's batch_input_shape)");
  return json{{"input", input}, {"layers", layers}}.dump();
}

}  // namespace fedhub
