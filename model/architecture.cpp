#include "model/architecture.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "model/keras_architecture.hpp"

namespace fedhub {

using nlohmann::json;

const char* to_string(LayerType t) {
  switch (t) {
    case LayerType::flatten:
      return "flatten";
    case LayerType::dense:
      return "dense";
    case LayerType::relu:
      return "relu";
    case LayerType::conv2d:
      return "conv2d";
    case LayerType::maxpool2d:
      return "maxpool2d";
    case LayerType::dropout:
      return "dropout";
  }
  return "?";
}

const char* to_string(Activation a) {
  switch (a) {
    case Activation::linear:
      return "linear";
    case Activation::relu:
      return "relu";
    case Activation::softmax:
      return "softmax";
  }
  return "?";
}

const char* to_string(Padding p) { return p == Padding::valid ? "valid" : "same"; }

std::vector<TensorSpec> Layer::parameters() const {
  std::vector<TensorSpec> p;
  if (type == LayerType::dense) {
    p.push_back({name + "/kernel", {input_shape.at(0), units}});
    if (use_bias) p.push_back({name + "/bias", {units}});
  } else if (type == LayerType::conv2d) {
    p.push_back({name + "/kernel", {kernel_h, kernel_w, input_shape.at(2), filters}});
    if (use_bias) p.push_back({name + "/bias", {filters}});
  }
  return p;
}

std::vector<TensorSpec> Architecture::parameters() const {
  std::vector<TensorSpec> all;
  for (const auto& l : layers)
    for (auto& p : l.parameters()) all.push_back(std::move(p));
  return all;
}

int64_t Architecture::output_size() const {
  const auto& shape = layers.empty() ? input : layers.back().output_shape;
  return element_count(shape);
}

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument("architecture: " + where + ": " + what);
}

int64_t positive_int(const json& j, const std::string& where, const char* field) {
  if (!j.is_number_integer() || j.get<int64_t>() <= 0)
    fail(where, std::string("'") + field + "' must be a positive integer, got " + j.dump());
  return j.get<int64_t>();
}

// A Keras size argument: a number or [h, w].
std::pair<int64_t, int64_t> pair_arg(const json& j, const std::string& where, const char* field) {
  if (j.is_array()) {
    if (j.size() != 2) fail(where, std::string("'") + field + "' must be a number or [h, w]");
    return {positive_int(j[0], where, field), positive_int(j[1], where, field)};
  }
  int64_t v = positive_int(j, where, field);
  return {v, v};
}

Activation parse_activation(const json& j, const std::string& where) {
  if (!j.is_string()) fail(where, "'activation' must be a string");
  auto s = j.get<std::string>();
  if (s == "linear" || s == "none") return Activation::linear;
  if (s == "relu") return Activation::relu;
  if (s == "softmax") return Activation::softmax;
  fail(where, "unknown activation '" + s + "' (use linear, relu or softmax)");
}

void check_fields(const json& layer, const std::set<std::string>& allowed, const std::string& where) {
  for (auto it = layer.begin(); it != layer.end(); ++it)
    if (!allowed.count(it.key())) fail(where, "unknown field '" + it.key() + "'");
}

int64_t conv_out(int64_t in, int64_t k, int64_t stride, Padding pad) {
  if (pad == Padding::same) return (in + stride - 1) / stride;
  return in < k ? 0 : (in - k) / stride + 1;
}

}  // namespace

Architecture parse_architecture(const std::string& text) {
  if (is_keras_model_json(text)) return parse_architecture(keras_to_architecture_json(text));
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number too large (1e999)
    throw std::invalid_argument(std::string("architecture: not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail("document", "must be a JSON object with \"input\" and \"layers\"");
  check_fields(doc, {"input", "layers", "name"}, "document");
  if (!doc.contains("input") || !doc["input"].is_array() || doc["input"].empty() || doc["input"].size() > 3)
    fail("document", "\"input\" must be [height, width, channels] or [size]");
  if (!doc.contains("layers") || !doc["layers"].is_array() || doc["layers"].empty())
    fail("document", "\"layers\" must be a non-empty array");

  Architecture arch;
  for (const auto& d : doc["input"]) arch.input.push_back(positive_int(d, "input", "input"));
  if (arch.input.size() == 2) fail("input", "use [height, width, channels] for images or [size] for vectors");

  std::map<std::string, int> counters;
  std::vector<int64_t> shape = arch.input;
  const auto& layers = doc["layers"];
  for (size_t i = 0; i < layers.size(); ++i) {
    const json& j = layers[i];
    std::string where = "layer " + std::to_string(i);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(where, "needs a \"type\" string");
    Layer l;
    const auto type = j["type"].get<std::string>();
    where += " (" + type + ")";
    if (type == "flatten") {
      l.type = LayerType::flatten;
      check_fields(j, {"type", "name"}, where);
      l.input_shape = shape;
      shape = {element_count(shape)};
    } else if (type == "dense") {
      l.type = LayerType::dense;
      check_fields(j, {"type", "name", "units", "activation", "use_bias", "trainable"}, where);
      if (!j.contains("units")) fail(where, "needs \"units\"");
      l.units = positive_int(j["units"], where, "units");
      if (j.contains("activation")) l.activation = parse_activation(j["activation"], where);
      if (j.contains("use_bias")) l.use_bias = j["use_bias"].get<bool>();
      if (shape.size() != 1) fail(where, "needs a flat input, got " + shape_to_string(shape) + ": add a flatten layer");
      l.input_shape = shape;
      shape = {l.units};
    } else if (type == "relu") {
      l.type = LayerType::relu;
      check_fields(j, {"type", "name"}, where);
      l.input_shape = shape;
    } else if (type == "dropout") {
      l.type = LayerType::dropout;
      check_fields(j, {"type", "name", "rate"}, where);
      if (!j.contains("rate") || !j["rate"].is_number()) fail(where, "needs a numeric \"rate\"");
      l.rate = j["rate"].get<double>();
      if (!(l.rate >= 0.0 && l.rate < 1.0)) fail(where, "\"rate\" must be in [0, 1)");
      l.input_shape = shape;
    } else if (type == "conv2d") {
      l.type = LayerType::conv2d;
      check_fields(
          j, {"type", "name", "filters", "kernel_size", "strides", "padding", "activation", "use_bias", "trainable"},
          where);
      if (!j.contains("filters") || !j.contains("kernel_size")) fail(where, "needs \"filters\" and \"kernel_size\"");
      l.filters = positive_int(j["filters"], where, "filters");
      std::tie(l.kernel_h, l.kernel_w) = pair_arg(j["kernel_size"], where, "kernel_size");
      if (j.contains("strides")) std::tie(l.stride_h, l.stride_w) = pair_arg(j["strides"], where, "strides");
      if (j.contains("padding")) {
        auto p = j["padding"].get<std::string>();
        if (p == "valid")
          l.padding = Padding::valid;
        else if (p == "same")
          l.padding = Padding::same;
        else
          fail(where, "unknown padding '" + p + "' (use valid or same)");
      }
      if (j.contains("activation")) l.activation = parse_activation(j["activation"], where);
      if (j.contains("use_bias")) l.use_bias = j["use_bias"].get<bool>();
      if (shape.size() != 3) fail(where, "needs an image input [h, w, c], got " + shape_to_string(shape));
      l.input_shape = shape;
      int64_t oh = conv_out(shape[0], l.kernel_h, l.stride_h, l.padding);
      int64_t ow = conv_out(shape[1], l.kernel_w, l.stride_w, l.padding);
      if (oh <= 0 || ow <= 0) fail(where, "kernel is larger than its input " + shape_to_string(shape));
      shape = {oh, ow, l.filters};
    } else if (type == "maxpool2d") {
      l.type = LayerType::maxpool2d;
      check_fields(j, {"type", "name", "pool_size", "strides", "padding"}, where);
      if (!j.contains("pool_size")) fail(where, "needs \"pool_size\"");
      std::tie(l.pool_h, l.pool_w) = pair_arg(j["pool_size"], where, "pool_size");
      l.stride_h = l.pool_h;
      l.stride_w = l.pool_w;
      if (j.contains("strides")) std::tie(l.stride_h, l.stride_w) = pair_arg(j["strides"], where, "strides");
      if (j.contains("padding") && j["padding"] != "valid") fail(where, "only padding \"valid\" is supported");
      if (shape.size() != 3) fail(where, "needs an image input [h, w, c], got " + shape_to_string(shape));
      l.input_shape = shape;
      int64_t oh = conv_out(shape[0], l.pool_h, l.stride_h, Padding::valid);
      int64_t ow = conv_out(shape[1], l.pool_w, l.stride_w, Padding::valid);
      if (oh <= 0 || ow <= 0) fail(where, "pool is larger than its input " + shape_to_string(shape));
      shape = {oh, ow, shape[2]};
    } else {
      fail(where, "unknown layer type (use flatten, dense, relu, conv2d, maxpool2d or dropout)");
    }
    if (j.contains("trainable")) {
      if (!j["trainable"].is_boolean()) fail(where, "\"trainable\" must be true or false");
      l.trainable = j["trainable"].get<bool>();
    }
    if (l.activation == Activation::softmax && i + 1 != layers.size())
      fail(where, "softmax is only allowed on the last layer");
    if (j.contains("name")) {
      if (!j["name"].is_string() || j["name"].get<std::string>().empty()) fail(where, "\"name\" must be a string");
      l.name = j["name"].get<std::string>();
    } else {
      int n = counters[to_string(l.type)]++;
      l.name = std::string(to_string(l.type)) + (n ? "_" + std::to_string(n) : "");
    }
    for (const auto& prev : arch.layers)
      if (prev.name == l.name) fail(where, "duplicate layer name '" + l.name + "'");
    l.output_shape = shape;
    arch.layers.push_back(std::move(l));
  }
  if (arch.layers.back().output_shape.size() != 1)
    fail("last layer", "must produce a flat vector of logits, got " + shape_to_string(arch.layers.back().output_shape));
  return arch;
}

std::string Architecture::to_json() const {
  json doc;
  doc["input"] = input;
  doc["layers"] = json::array();
  for (const auto& l : layers) {
    json j{{"type", to_string(l.type)}, {"name", l.name}};
    switch (l.type) {
      case LayerType::dense:
        j["units"] = l.units;
        j["activation"] = to_string(l.activation);
        j["use_bias"] = l.use_bias;
        if (!l.trainable) j["trainable"] = false;
        break;
      case LayerType::conv2d:
        j["filters"] = l.filters;
        j["kernel_size"] = {l.kernel_h, l.kernel_w};
        j["strides"] = {l.stride_h, l.stride_w};
        j["padding"] = to_string(l.padding);
        j["activation"] = to_string(l.activation);
        j["use_bias"] = l.use_bias;
        if (!l.trainable) j["trainable"] = false;
        break;
      case LayerType::maxpool2d:
        j["pool_size"] = {l.pool_h, l.pool_w};
        j["strides"] = {l.stride_h, l.stride_w};
        break;
      case LayerType::dropout:
        j["rate"] = l.rate;
        break;
      default:
        break;
    }
    doc["layers"].push_back(j);
  }
  return doc.dump();
}

}  // namespace fedhub
