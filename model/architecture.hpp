// The model architecture format: a sequential list of layers in JSON, with
// Keras' field names, e.g.
//
//   {"input":[28,28,1],
//    "layers":[{"type":"flatten"},
//              {"type":"dense","units":64,"activation":"relu"},
//              {"type":"dense","units":10}]}
//
// Layers: flatten, dense, relu, conv2d, maxpool2d, dropout (docs/models.md).
// A dense or conv2d layer with "trainable": false is frozen.
// Images are NHWC: "input" is [height, width, channels]; a flat input is [d].
// The last layer's outputs are logits for softmax cross-entropy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/tensor.hpp"

namespace fedhub {

enum class LayerType { flatten, dense, relu, conv2d, maxpool2d, dropout };
enum class Activation { linear, relu, softmax };
enum class Padding { valid, same };

const char* to_string(LayerType t);
const char* to_string(Activation a);
const char* to_string(Padding p);

struct Layer {
  LayerType type = LayerType::flatten;
  std::string name;  // Keras-style unique name: "dense", "dense_1", "conv2d", ...

  // dense
  int64_t units = 0;
  // dense, conv2d. "softmax" is accepted on the last layer only and means the
  // outputs are logits of the softmax in the loss.
  Activation activation = Activation::linear;
  bool use_bias = true;
  // dense, conv2d: false freezes the layer (Keras' field): its parameters
  // keep the weights of the model's creation; participants neither train nor
  // upload them (model/trainable_slice.hpp). The recipe's "freeze" sets it too.
  bool trainable = true;

  // conv2d ("kernel_size" and "strides" may be a number or [h, w])
  int64_t filters = 0;
  int64_t kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::valid;

  // maxpool2d ("pool_size" and "strides" may be a number or [h, w]; strides
  // default to pool_size; padding "valid")
  int64_t pool_h = 0, pool_w = 0;

  // dropout
  double rate = 0.0;

  // Filled in by parse_architecture: the shapes of one sample (no batch axis).
  std::vector<int64_t> input_shape;
  std::vector<int64_t> output_shape;

  // The parameter tensors of this layer ("<name>/kernel", "<name>/bias").
  std::vector<TensorSpec> parameters() const;
};

struct Architecture {
  std::vector<int64_t> input;  // [h, w, c] or [d]
  std::vector<Layer> layers;

  // All parameter tensors in layer order: the layout of Weights.
  std::vector<TensorSpec> parameters() const;
  // Number of outputs (logits) of the last layer.
  int64_t output_size() const;
  // Canonical JSON with every default written out ("trainable" only where
  // it is false).
  std::string to_json() const;
};

// Parses and shape-checks an architecture. Throws std::invalid_argument with a
// message that names the offending layer (by index and type) and field.
Architecture parse_architecture(const std::string& json);

}  // namespace fedhub
