// Keras's architecture JSON (what `model.to_json()` writes for a
// Sequential model, Keras 2 and Keras 3) read as fedhub's architecture
// (model/architecture.hpp): parse_architecture() accepts either document.
//
// Layers read: InputLayer (its batch_input_shape / batch_shape), Conv2D
// (filters, kernel_size, strides, padding valid|same, activation, use_bias;
// channels_last, dilation 1, groups 1), MaxPooling2D (pool_size, strides,
// padding valid), Flatten, Dense (units, activation, use_bias), Dropout
// (rate) and Activation (relu; softmax at the end, folded into the layer
// before it; linear, which does nothing). Activations: linear, relu,
// softmax. Layer names are kept, so that Keras's weight files match by
// name. Anything else is refused naming the layer and what it needs.
#pragma once

#include <string>

namespace fedhub {

// Whether a JSON document is a Keras model (it has "class_name").
bool is_keras_model_json(const std::string& json);

// fedhub's architecture JSON for a Keras Sequential model's JSON. Throws
// std::invalid_argument("architecture: keras layer 'conv2d' (Conv2D): ...").
std::string keras_to_architecture_json(const std::string& json);

}  // namespace fedhub
